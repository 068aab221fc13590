import {
  projectEventAsync,
  type ApplicationPermissionRow,
  type ClientRow,
  type MembershipRow,
  type NewOrgRow,
  type NewUserRow,
  type OrgChange,
  type PersonalColumns,
  type ProjectableEvent,
  type RoleRow,
  type RolesGrantedBy,
  type ReadModelEngine,
  type UserStatusChange,
  type VersionedRow,
  type WebhookSubscriptionView,
} from '@arbor/application';
import type { Role } from '@arbor/domain';
import type { PoolClient } from 'pg';
import { projectionStatements, type ProjectionStatements } from './read-model-statements';
import type { ReadModelSql } from './read-models-schema';
import { webhookRow, webhookStatements, webhookValues } from './postgres-webhook-subscriptions';
import { endOrgVersionsStatement, versionStatements, versionValues } from './version-statements';

/**
 * Applies events to the read-model tables through the shared projection (`projectEventAsync` in
 * @arbor/application decides what changes for each event), on named prepared statements. It runs inside the
 * caller's transaction (see `PostgresReadModels.apply`) and does not track positions itself.
 */
export class ReadModelProjection {
  private readonly statements: ProjectionStatements;
  private readonly versions: ReturnType<typeof versionStatements>;

  constructor(private readonly sql: ReadModelSql) {
    this.statements = projectionStatements(sql);
    this.versions = versionStatements(sql);
  }

  /** Applies one event on the transaction's client; unknown types are ignored (the caller still advances). */
  apply(db: PoolClient, event: ProjectableEvent): Promise<void> {
    return projectEventAsync(new PostgresReadModelEngine(this.sql, this.statements, this.versions, db), event);
  }
}

/** The PostgreSQL engine, bound to one transaction's client: each primitive is one statement. */
class PostgresReadModelEngine implements ReadModelEngine {
  constructor(
    private readonly sql: ReadModelSql,
    private readonly s: ProjectionStatements,
    private readonly versions: ReturnType<typeof versionStatements>,
    private readonly db: PoolClient,
  ) {}

  async orgDepth(orgId: string): Promise<number | undefined> {
    const rows = await this.sql.rows<{ depth: number }>(this.db, this.s.orgDepth, [orgId]);
    return rows[0]?.depth;
  }

  async createOrg(o: NewOrgRow): Promise<void> {
    const metadata = JSON.stringify(o.metadata);
    await this.run(this.s.createOrg, [o.id, o.name, o.parentId, o.nameKey, o.description, metadata, o.at, o.version]);
  }

  async updateOrg(c: OrgChange): Promise<void> {
    await this.run(this.s.updateOrg, [
      c.id,
      c.name,
      c.nameKey,
      c.description,
      JSON.stringify(c.metadata),
      c.at,
      c.version,
    ]);
    await this.run(this.s.updateLinkNameKey, [c.id, c.nameKey]);
  }

  async unlinkSubtree(orgId: string): Promise<void> {
    await this.run(this.s.unlinkSubtree, [orgId]);
  }

  async linkSubtree(orgId: string, parentId: string): Promise<void> {
    await this.run(this.s.linkSubtree, [orgId, parentId]);
  }

  async shiftSubtreeDepth(orgId: string, delta: number): Promise<void> {
    await this.run(this.s.shiftSubtreeDepth, [orgId, delta]);
  }

  async setParent(orgId: string, parentId: string | null, at: string, version: number): Promise<void> {
    await this.run(this.s.setParent, [orgId, parentId, at, version]);
  }

  async deleteOrg(orgId: string): Promise<void> {
    await this.run(this.s.deleteOrg, [orgId]);
  }

  async deleteOrgAccess(orgId: string): Promise<void> {
    await this.run(this.s.deleteOrgAccess, [orgId]);
  }

  async insertUser(u: NewUserRow): Promise<void> {
    await this.run(this.s.insertUser, [
      u.id,
      ...personalValues(u.personal),
      u.status,
      u.platformAdmin,
      u.at,
      u.version,
    ]);
  }

  async setPersonalData(userId: string, personal: PersonalColumns | null, at: string, version: number): Promise<void> {
    await this.run(this.s.updatePersonal, [userId, ...personalValues(personal), at, version]);
  }

  async setUserStatus(c: UserStatusChange): Promise<void> {
    await this.run(this.s.setStatus, [c.id, c.status, c.at, c.version, c.endSessions]);
  }

  async endSessions(userId: string, at: string, keptSessionId: string | null, version: number): Promise<void> {
    await this.run(this.s.endSessions, [userId, at, keptSessionId, version]);
  }

  async upsertMembership(m: MembershipRow): Promise<void> {
    await this.run(this.s.upsertMembership, [m.orgId, m.userId, JSON.stringify(m.roles), m.at, m.pending]);
  }

  async confirmMembership(orgId: string, userId: string): Promise<void> {
    await this.run(this.s.confirmMembership, [orgId, userId]);
  }

  async setMembershipRoles(orgId: string, userId: string, roles: Role[]): Promise<void> {
    await this.run(this.s.setRoles, [orgId, userId, JSON.stringify(roles)]);
  }

  async deleteMembership(orgId: string, userId: string): Promise<void> {
    await this.run(this.s.deleteMembership, [orgId, userId]);
  }

  async putClient(c: ClientRow): Promise<void> {
    await this.run(this.s.deleteClashingClient, [c.id, c.clientId]);
    await this.run(this.s.upsertClient, [
      c.id,
      c.clientId,
      c.name,
      c.orgId,
      JSON.stringify(c.scopes),
      c.at,
      c.version,
      JSON.stringify(c.roles),
      c.rolesGrantedBy?.eventId ?? null,
      c.rolesGrantedBy?.position ?? null,
    ]);
  }

  async setClientRoles(id: string, roles: string[], by: RolesGrantedBy | null, version: number): Promise<void> {
    await this.run(this.s.setClientRoles, [
      id,
      JSON.stringify(roles),
      by?.eventId ?? null,
      by?.position ?? null,
      version,
    ]);
  }

  async deleteClient(id: string): Promise<void> {
    await this.run(this.s.deleteClient, [id]);
  }

  async putRole(r: RoleRow): Promise<void> {
    await this.run(this.s.putRole, [
      r.id,
      r.orgId,
      r.name,
      r.description,
      JSON.stringify(r.permissions),
      r.appliesTo,
      r.at,
      r.version,
    ]);
  }

  async deleteRole(roleId: string): Promise<void> {
    await this.run(this.s.deleteRole, [roleId]);
  }

  async putApplicationPermission(p: ApplicationPermissionRow): Promise<void> {
    await this.run(this.s.putPermission, [p.orgId, p.name, p.description, p.at, p.version]);
  }

  async deleteApplicationPermission(orgId: string, name: string): Promise<void> {
    await this.run(this.s.deletePermission, [orgId, name]);
  }

  async deleteOrgDefinitions(orgId: string): Promise<void> {
    await this.run(this.s.deleteOrgDefinitions, [orgId]);
  }

  async setRoleCatalogPosition(position: number): Promise<void> {
    await this.run(this.s.setCatalogPosition, [position]);
  }

  async recordVersion(row: VersionedRow, position: number): Promise<void> {
    await this.run(this.versions[row.kind], versionValues(row, position));
  }

  async endOrgVersions(orgId: string, position: number): Promise<void> {
    await this.run(endOrgVersionsStatement(this.sql), [position, orgId]);
  }

  webhookSubscription(subscriptionId: string): Promise<WebhookSubscriptionView | undefined> {
    return webhookRow(this.sql, this.db, subscriptionId);
  }

  async putWebhookSubscription(row: WebhookSubscriptionView): Promise<void> {
    await this.run(webhookStatements(this.sql).put, webhookValues(row));
  }

  async deleteWebhookSubscription(subscriptionId: string): Promise<void> {
    await this.run(webhookStatements(this.sql).delete, [subscriptionId]);
  }

  private async run(text: string, values: unknown[]): Promise<void> {
    await this.sql.run(this.db, text, values);
  }
}

/** email, email_key, name, name_key: all null when the personal data could not be opened. */
function personalValues(p: PersonalColumns | null): Array<string | null> {
  return p ? [p.email, p.emailKey, p.name, p.nameKey] : [null, null, null, null];
}
