import type { ProjectableEvent } from '@arbor/application';
import type {
  ClientCredentialIssuedData,
  MembershipConfirmedData,
  OrgUserUpdatedData,
  StoredEvent,
  UserAddedToOrgData,
  UserCreatedData,
  UserStatusData,
} from '@arbor/domain';
import type { PoolClient } from 'pg';
import { emailKey } from './read-model-rows';
import type { ReadModelSql } from './read-models-schema';

/**
 * The user, membership and client part of `ReadModelProjection`. Same rules: it runs inside the caller's
 * transaction, and every write is an upsert, an update or a delete keyed by id, so applying an event twice
 * leaves the same rows.
 */
export class ReadModelUserAccessProjection {
  private readonly insertUser: string;
  private readonly updatePersonal: string;
  private readonly setStatus: string;
  private readonly endSessions: string;
  private readonly confirmMembership: string;
  private readonly upsertMembership: string;
  private readonly setRoles: string;
  private readonly deleteMembership: string;
  private readonly deleteClashingClient: string;
  private readonly upsertClient: string;
  private readonly deleteClient: string;
  private readonly deleteOrgAccess: string;

  constructor(private readonly sql: ReadModelSql) {
    const users = sql.table('users');
    const memberships = sql.table('memberships');
    const clients = sql.table('clients');
    this.insertUser = `
      INSERT INTO ${users}
        (id, email, email_key, name, name_key, status, platform_admin, created_at, updated_at, version)
      VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, $9)
      ON CONFLICT (id) DO NOTHING`;
    // Opened personal data replaces the old one whole; none (its key is gone) erases the user for good.
    this.updatePersonal = `
      UPDATE ${users} SET email = $2::text, email_key = $3, name = $4, name_key = $5,
        status = CASE WHEN $2::text IS NULL THEN 'erased' ELSE status END, updated_at = $6, version = $7
      WHERE id = $1`;
    // An erased user stays erased: enabling it again must not bring back an account without personal data.
    this.setStatus = `
      UPDATE ${users} SET status = CASE WHEN status = 'erased' THEN status ELSE $2 END,
        sessions_not_before = CASE WHEN $2 = 'disabled' THEN $3 ELSE sessions_not_before END,
        kept_session_id = CASE WHEN $2 = 'disabled' THEN NULL ELSE kept_session_id END, updated_at = $3, version = $4
      WHERE id = $1`;
    // A password set or changed ends every session that began before it, but the one the change kept.
    this.endSessions = `UPDATE ${users} SET sessions_not_before = $2, kept_session_id = $3, updated_at = $2, version = $4 WHERE id = $1`;
    this.upsertMembership = `
      INSERT INTO ${memberships} AS m (org_id, user_id, roles, added_at, version, pending)
      VALUES ($1, $2, $3::jsonb, $4, 1, $5)
      ON CONFLICT (org_id, user_id) DO UPDATE SET roles = excluded.roles, added_at = excluded.added_at,
        version = m.version + 1, pending = excluded.pending`;
    this.confirmMembership = `UPDATE ${memberships} SET pending = false, version = version + 1 WHERE org_id = $1 AND user_id = $2`;
    this.setRoles = `UPDATE ${memberships} SET roles = $3::jsonb, version = version + 1 WHERE org_id = $1 AND user_id = $2`;
    this.deleteMembership = `DELETE FROM ${memberships} WHERE org_id = $1 AND user_id = $2`;
    // INSERT OR REPLACE in the SQLite adapter, on either unique key: a projector must never be unable to
    // apply a fact of the log (the command side keeps client ids unique). ON CONFLICT names one key only,
    // so a row holding the same client_id under another id goes first.
    this.deleteClashingClient = `DELETE FROM ${clients} WHERE client_id = $2 AND id <> $1`;
    this.upsertClient = `
      INSERT INTO ${clients} (id, client_id, name, org_id, scopes, created_at, version)
      VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7)
      ON CONFLICT (id) DO UPDATE SET client_id = excluded.client_id, name = excluded.name, org_id = excluded.org_id,
        scopes = excluded.scopes, created_at = excluded.created_at, version = excluded.version`;
    this.deleteClient = `DELETE FROM ${clients} WHERE id = $1`;
    this.deleteOrgAccess = `
      WITH m AS (DELETE FROM ${memberships} WHERE org_id = $1)
      DELETE FROM ${clients} WHERE org_id = $1`;
  }

  /** Personal data arrives opened; null or absent means its key is gone, so the user is erased. */
  async userCreated(db: PoolClient, event: ProjectableEvent, d: UserCreatedData): Promise<void> {
    await this.sql.run(db, this.insertUser, [
      d.userId,
      ...personalColumns(event),
      event.personal ? 'active' : 'erased',
      Boolean(d.platformAdmin),
      event.occurredAt,
      event.streamVersion,
    ]);
  }

  async userUpdated(db: PoolClient, event: ProjectableEvent, d: { userId: string }): Promise<void> {
    await this.sql.run(db, this.updatePersonal, [d.userId, ...personalColumns(event), event.occurredAt, event.streamVersion]);
  }

  async userStatus(db: PoolClient, event: StoredEvent, d: UserStatusData, status: 'active' | 'disabled'): Promise<void> {
    await this.sql.run(db, this.setStatus, [d.userId, status, event.occurredAt, event.streamVersion]);
  }

  /** UserPasswordChanged (`keptSessionId` survives) or UserPasswordSet: sessions begun before it end. */
  async userPassword(db: PoolClient, event: StoredEvent, d: { userId: string; keptSessionId?: string }): Promise<void> {
    await this.sql.run(db, this.endSessions, [d.userId, event.occurredAt, d.keptSessionId ?? null, event.streamVersion]);
  }

  async userAddedToOrg(db: PoolClient, event: StoredEvent, d: UserAddedToOrgData): Promise<void> {
    await this.sql.run(db, this.upsertMembership, [
      d.orgId,
      d.userId,
      JSON.stringify(d.roles),
      event.occurredAt,
      d.pending === true,
    ]);
  }

  async membershipConfirmed(db: PoolClient, _event: StoredEvent, d: MembershipConfirmedData): Promise<void> {
    await this.sql.run(db, this.confirmMembership, [d.orgId, d.userId]);
  }

  async orgUserUpdated(db: PoolClient, _event: StoredEvent, d: OrgUserUpdatedData): Promise<void> {
    await this.sql.run(db, this.setRoles, [d.orgId, d.userId, JSON.stringify(d.roles)]);
  }

  async userRemovedFromOrg(db: PoolClient, d: { orgId: string; userId: string }): Promise<void> {
    await this.sql.run(db, this.deleteMembership, [d.orgId, d.userId]);
  }

  async clientIssued(db: PoolClient, event: StoredEvent, d: ClientCredentialIssuedData): Promise<void> {
    await this.sql.run(db, this.deleteClashingClient, [d.clientCredentialId, d.clientId]);
    await this.sql.run(db, this.upsertClient, [
      d.clientCredentialId,
      d.clientId,
      d.name,
      d.orgId,
      JSON.stringify(d.scopes),
      event.occurredAt,
      event.streamVersion,
    ]);
  }

  async clientRevoked(db: PoolClient, d: { clientCredentialId: string }): Promise<void> {
    await this.sql.run(db, this.deleteClient, [d.clientCredentialId]);
  }

  /** The domain removes members and revokes clients before deleting an organization; this is a backstop. */
  async orgDeleted(db: PoolClient, orgId: string): Promise<void> {
    await this.sql.run(db, this.deleteOrgAccess, [orgId]);
  }
}

/** email, email_key, name, name_key: all null when the personal data could not be opened. */
function personalColumns(event: ProjectableEvent): Array<string | null> {
  const personal = event.personal ?? null;
  return [
    personal?.email ?? null,
    personal ? emailKey(personal.email) : null,
    personal?.name ?? null,
    personal ? emailKey(personal.name) : null,
  ];
}
