import {
  projectEventSync,
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
  type SyncReadModelEngine,
  type UserStatusChange,
  type VersionedRow,
  type WebhookSubscriptionView,
} from '@arbor/application';
import type { Role } from '@arbor/domain';
import type { SqliteDatabase } from './open-sqlite-database';
import { prepareProjectionStatements, type ProjectionStatements } from './read-model-statements';
import { VersionStatements } from './version-statements';
import { SqliteWebhookRows } from './sqlite-webhook-subscriptions';

/**
 * The SQLite engine of the shared read-model projection (`projectEventSync` in @arbor/application decides
 * what changes for each event): each primitive runs one or a few statements prepared once. It runs inside
 * the caller's transaction (see `SqliteReadModels.apply`) and does not track positions itself.
 */
export class ReadModelProjection implements SyncReadModelEngine {
  private readonly s: ProjectionStatements;
  private readonly versions: VersionStatements;
  private readonly webhooks: SqliteWebhookRows;

  constructor(db: SqliteDatabase) {
    this.s = prepareProjectionStatements(db);
    this.versions = new VersionStatements(db);
    this.webhooks = new SqliteWebhookRows(db);
  }

  /** Applies one event; unknown types are ignored (the caller still advances the checkpoint). */
  apply(event: ProjectableEvent): void {
    projectEventSync(this, event);
  }

  orgDepth(orgId: string): number | undefined {
    return this.s.orgDepth.get(orgId);
  }

  createOrg(org: NewOrgRow): void {
    const parentDepth = org.parentId === null ? undefined : this.s.orgDepth.get(org.parentId);
    this.s.insertOrg.run({
      id: org.id,
      name: org.name,
      key: org.nameKey,
      parentId: org.parentId,
      depth: parentDepth === undefined ? 0 : parentDepth + 1,
      description: org.description,
      metadata: JSON.stringify(org.metadata),
      at: org.at,
      version: org.version,
    });
    this.s.insertSelfLink.run({ id: org.id, key: org.nameKey });
    if (org.parentId !== null) this.s.insertAncestorLinks.run({ id: org.id, key: org.nameKey, parentId: org.parentId });
  }

  updateOrg(c: OrgChange): void {
    this.s.updateOrg.run({
      id: c.id,
      name: c.name,
      key: c.nameKey,
      description: c.description,
      metadata: JSON.stringify(c.metadata),
      at: c.at,
      version: c.version,
    });
    this.s.updateLinkNameKey.run({ id: c.id, key: c.nameKey });
  }

  unlinkSubtree(orgId: string): void {
    this.s.unlinkSubtree.run({ id: orgId });
  }

  linkSubtree(orgId: string, parentId: string): void {
    this.s.linkSubtree.run({ id: orgId, toParentId: parentId });
  }

  shiftSubtreeDepth(orgId: string, delta: number): void {
    this.s.shiftSubtreeDepth.run({ id: orgId, delta });
  }

  setParent(orgId: string, parentId: string | null, at: string, version: number): void {
    this.s.setParent.run({ id: orgId, toParentId: parentId, at, version });
  }

  deleteOrg(orgId: string): void {
    this.s.deleteOrg.run(orgId);
    this.s.deleteLinksTo.run(orgId);
    this.s.deleteLinksFrom.run(orgId);
  }

  deleteOrgAccess(orgId: string): void {
    this.s.deleteOrgMemberships.run(orgId);
    this.s.deleteOrgClients.run(orgId);
    this.webhooks.removeOfOrg.run(orgId);
  }

  insertUser(u: NewUserRow): void {
    this.s.insertUser.run({
      id: u.id,
      ...personalParams(u.personal),
      status: u.status,
      platformAdmin: u.platformAdmin ? 1 : 0,
      at: u.at,
      version: u.version,
    });
  }

  setPersonalData(userId: string, personal: PersonalColumns | null, at: string, version: number): void {
    this.s.updatePersonal.run({ id: userId, ...personalParams(personal), at, version });
  }

  setUserStatus(c: UserStatusChange): void {
    this.s.setStatus.run({
      id: c.id,
      status: c.status,
      endSessions: c.endSessions ? 1 : 0,
      at: c.at,
      version: c.version,
    });
  }

  endSessions(userId: string, at: string, keptSessionId: string | null, version: number): void {
    this.s.endSessions.run({ id: userId, at, kept: keptSessionId, version });
  }

  upsertMembership(m: MembershipRow): void {
    this.s.upsertMembership.run({
      orgId: m.orgId,
      userId: m.userId,
      roles: JSON.stringify(m.roles),
      at: m.at,
      pending: m.pending ? 1 : 0,
    });
  }

  confirmMembership(orgId: string, userId: string): void {
    this.s.confirmMembership.run({ orgId, userId });
  }

  setMembershipRoles(orgId: string, userId: string, roles: Role[]): void {
    this.s.setRoles.run({ orgId, userId, roles: JSON.stringify(roles) });
  }

  deleteMembership(orgId: string, userId: string): void {
    this.s.deleteMembership.run(orgId, userId);
  }

  putClient(c: ClientRow): void {
    this.s.insertClient.run({
      id: c.id,
      clientId: c.clientId,
      name: c.name,
      orgId: c.orgId,
      scopes: JSON.stringify(c.scopes),
      at: c.at,
      version: c.version,
      roles: JSON.stringify(c.roles),
      grantedByEventId: c.rolesGrantedBy?.eventId ?? null,
      grantedByPosition: c.rolesGrantedBy?.position ?? null,
    });
  }

  setClientRoles(id: string, roles: string[], by: RolesGrantedBy | null, version: number): void {
    this.s.setClientRoles.run({
      id,
      roles: JSON.stringify(roles),
      grantedByEventId: by?.eventId ?? null,
      grantedByPosition: by?.position ?? null,
      version,
    });
  }

  deleteClient(id: string): void {
    this.s.deleteClient.run(id);
  }

  putRole(r: RoleRow): void {
    this.s.putRole.run({
      id: r.id,
      orgId: r.orgId,
      name: r.name,
      description: r.description,
      permissions: JSON.stringify(r.permissions),
      appliesTo: r.appliesTo,
      at: r.at,
      version: r.version,
    });
  }

  deleteRole(roleId: string): void {
    this.s.deleteRole.run(roleId);
  }

  putApplicationPermission(p: ApplicationPermissionRow): void {
    this.s.putPermission.run({ ...p });
  }

  deleteApplicationPermission(orgId: string, name: string): void {
    this.s.deletePermission.run(orgId, name);
  }

  deleteOrgDefinitions(orgId: string): void {
    this.s.deleteOrgRoles.run(orgId);
    this.s.deleteOrgPermissions.run(orgId);
  }

  setRoleCatalogPosition(position: number): void {
    this.s.setCatalogPosition.run(position);
  }

  webhookSubscription(subscriptionId: string): WebhookSubscriptionView | undefined {
    return this.webhooks.get(subscriptionId);
  }

  putWebhookSubscription(row: WebhookSubscriptionView): void {
    this.webhooks.upsert(row);
  }

  deleteWebhookSubscription(subscriptionId: string): void {
    this.webhooks.delete(subscriptionId);
  }

  recordVersion(row: VersionedRow, position: number): void {
    this.versions.record(row, position);
  }

  endOrgVersions(orgId: string, position: number): void {
    this.versions.endOrg(orgId, position);
  }
}

function personalParams(personal: PersonalColumns | null): Record<string, string | null> {
  return {
    email: personal?.email ?? null,
    emailKey: personal?.emailKey ?? null,
    name: personal?.name ?? null,
    nameKey: personal?.nameKey ?? null,
  };
}
