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
import type { Statement } from 'better-sqlite3';
import type { SqliteDatabase } from './open-sqlite-database';
import { emailKey } from './read-model-rows';

type Params = Record<string, unknown>;

/**
 * The user, membership and client part of `ReadModelProjection`, on statements prepared once. Same rules:
 * it runs inside the caller's transaction, and every write is an upsert, an update or a delete keyed by
 * id, so applying an event twice leaves the same rows.
 */
export class UserAccessProjection {
  private readonly insertUser: Statement<Params>;
  private readonly updatePersonal: Statement<Params>;
  private readonly setStatus: Statement<Params>;
  private readonly endSessions: Statement<Params>;
  private readonly upsertMembership: Statement<Params>;
  private readonly setRoles: Statement<Params>;
  private readonly confirmMembership: Statement<Params>;
  private readonly deleteMembership: Statement<[string, string]>;
  private readonly insertClient: Statement<Params>;
  private readonly deleteClient: Statement<[string]>;
  private readonly deleteOrgMemberships: Statement<[string]>;
  private readonly deleteOrgClients: Statement<[string]>;

  constructor(db: SqliteDatabase) {
    this.insertUser = db.prepare(
      `INSERT OR IGNORE INTO users
         (id, email, email_key, name, name_key, status, platform_admin, created_at, updated_at, version)
       VALUES (@id, @email, @emailKey, @name, @nameKey, @status, @platformAdmin, @at, @at, @version)`,
    );
    // Opened personal data replaces the old one whole; none (its key is gone) erases the user for good.
    this.updatePersonal = db.prepare(
      `UPDATE users SET email = @email, email_key = @emailKey, name = @name, name_key = @nameKey,
         status = CASE WHEN @email IS NULL THEN 'erased' ELSE status END, updated_at = @at, version = @version
       WHERE id = @id`,
    );
    // An erased user stays erased: enabling it again must not bring back an account without personal data.
    // Disabling ends every session for good: tokens issued before it stay dead after a re-enable.
    this.setStatus = db.prepare(
      `UPDATE users SET status = CASE WHEN status = 'erased' THEN status ELSE @status END,
         sessions_not_before = CASE WHEN @status = 'disabled' THEN @at ELSE sessions_not_before END,
         kept_session_id = CASE WHEN @status = 'disabled' THEN NULL ELSE kept_session_id END,
         updated_at = @at, version = @version
       WHERE id = @id`,
    );
    // A password set or changed ends every session that began before it, but the one the change kept.
    this.endSessions = db.prepare(
      `UPDATE users SET sessions_not_before = @at, kept_session_id = @kept, updated_at = @at, version = @version WHERE id = @id`,
    );
    this.upsertMembership = db.prepare(
      `INSERT INTO memberships (org_id, user_id, roles, added_at, version, pending)
       VALUES (@orgId, @userId, @roles, @at, 1, @pending)
       ON CONFLICT (org_id, user_id) DO UPDATE SET roles = excluded.roles, added_at = excluded.added_at,
         version = memberships.version + 1, pending = excluded.pending`,
    );
    this.confirmMembership = db.prepare('UPDATE memberships SET pending = 0, version = version + 1 WHERE org_id = @orgId AND user_id = @userId');
    this.setRoles = db.prepare('UPDATE memberships SET roles = @roles, version = version + 1 WHERE org_id = @orgId AND user_id = @userId');
    this.deleteMembership = db.prepare('DELETE FROM memberships WHERE org_id = ? AND user_id = ?');
    // OR REPLACE also on a client_id clash: a projector must never be unable to apply a fact of the log
    // (the command side keeps client ids unique).
    this.insertClient = db.prepare(
      `INSERT OR REPLACE INTO clients (id, client_id, name, org_id, scopes, created_at, version)
       VALUES (@id, @clientId, @name, @orgId, @scopes, @at, @version)`,
    );
    this.deleteClient = db.prepare('DELETE FROM clients WHERE id = ?');
    this.deleteOrgMemberships = db.prepare('DELETE FROM memberships WHERE org_id = ?');
    this.deleteOrgClients = db.prepare('DELETE FROM clients WHERE org_id = ?');
  }

  /** Personal data arrives opened; null or absent means its key is gone, so the user is erased. */
  userCreated(event: ProjectableEvent, d: UserCreatedData): void {
    this.insertUser.run({
      id: d.userId,
      ...personalColumns(event),
      status: event.personal ? 'active' : 'erased',
      platformAdmin: d.platformAdmin ? 1 : 0,
      at: event.occurredAt,
      version: event.streamVersion,
    });
  }

  userUpdated(event: ProjectableEvent, d: { userId: string }): void {
    this.updatePersonal.run({ id: d.userId, ...personalColumns(event), at: event.occurredAt, version: event.streamVersion });
  }

  userStatus(event: StoredEvent, d: UserStatusData, status: 'active' | 'disabled'): void {
    this.setStatus.run({ id: d.userId, status, at: event.occurredAt, version: event.streamVersion });
  }

  /** UserPasswordChanged (`keptSessionId` survives) or UserPasswordSet: sessions begun before it end. */
  userPassword(event: StoredEvent, d: { userId: string; keptSessionId?: string }): void {
    this.endSessions.run({ id: d.userId, at: event.occurredAt, kept: d.keptSessionId ?? null, version: event.streamVersion });
  }

  userAddedToOrg(event: StoredEvent, d: UserAddedToOrgData): void {
    this.upsertMembership.run({
      orgId: d.orgId,
      userId: d.userId,
      roles: JSON.stringify(d.roles),
      at: event.occurredAt,
      pending: d.pending ? 1 : 0,
    });
  }

  membershipConfirmed(_event: StoredEvent, d: MembershipConfirmedData): void {
    this.confirmMembership.run({ orgId: d.orgId, userId: d.userId });
  }

  orgUserUpdated(_event: StoredEvent, d: OrgUserUpdatedData): void {
    this.setRoles.run({ orgId: d.orgId, userId: d.userId, roles: JSON.stringify(d.roles) });
  }

  userRemovedFromOrg(d: { orgId: string; userId: string }): void {
    this.deleteMembership.run(d.orgId, d.userId);
  }

  clientIssued(event: StoredEvent, d: ClientCredentialIssuedData): void {
    this.insertClient.run({
      id: d.clientCredentialId,
      clientId: d.clientId,
      name: d.name,
      orgId: d.orgId,
      scopes: JSON.stringify(d.scopes),
      at: event.occurredAt,
      version: event.streamVersion,
    });
  }

  clientRevoked(d: { clientCredentialId: string }): void {
    this.deleteClient.run(d.clientCredentialId);
  }

  /** The domain removes members and revokes clients before deleting an organization; this is a backstop. */
  orgDeleted(orgId: string): void {
    this.deleteOrgMemberships.run(orgId);
    this.deleteOrgClients.run(orgId);
  }
}

function personalColumns(event: ProjectableEvent): Params {
  const personal = event.personal ?? null;
  return {
    email: personal?.email ?? null,
    emailKey: personal ? emailKey(personal.email) : null,
    name: personal?.name ?? null,
    nameKey: personal ? emailKey(personal.name) : null,
  };
}
