import type { ApplicationPermissionView, RoleQueries, RoleView } from '@arbor/application';
import {
  pairId,
  ROLE_CATALOG_CHECKPOINT,
  type PermissionDoc,
  type ReadModelCollections,
  type RoleDoc,
} from './mongo-collections';
import { hasNul } from './mongo-page-cursor';

export const toRoleView = (doc: RoleDoc): RoleView => ({
  id: doc._id,
  orgId: doc.orgId,
  name: doc.name,
  description: doc.description,
  permissions: doc.permissions,
  appliesTo: doc.appliesTo,
  createdAt: doc.createdAt,
  updatedAt: doc.updatedAt,
  version: doc.version,
});

export const toPermissionView = (doc: PermissionDoc): ApplicationPermissionView => ({
  name: doc.name,
  orgId: doc.orgId,
  description: doc.description,
  createdAt: doc.createdAt,
  updatedAt: doc.updatedAt,
  version: doc.version,
});

/** Code-unit order, as MongoDB compares strings without a collation (and the SQL adapters bytewise). */
const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Custom roles and application permissions. "Visible at O": O's document gives its ancestors (root first), then
 * one `find` by organization (`roles_org`, `permissions_org`) over them and O; ordered root first, then by role
 * id or permission name. Definitions are few per organization (the domain caps them): sorted here.
 */
export class MongoRoleQueries implements RoleQueries {
  constructor(private readonly c: ReadModelCollections) {}

  async get(roleId: string): Promise<RoleView | undefined> {
    if (hasNul(roleId)) return undefined;
    const doc = await this.c.roles.findOne({ _id: roleId });
    return doc === null ? undefined : toRoleView(doc);
  }

  async visibleAt(orgId: string): Promise<RoleView[]> {
    const path = await this.pathOf(orgId);
    if (path.length === 0) return [];
    const docs = await this.c.roles.find({ orgId: { $in: path } }).toArray();
    const level = new Map(path.map((id, i) => [id, i]));
    docs.sort((a, b) => level.get(a.orgId)! - level.get(b.orgId)! || compare(a._id, b._id));
    return docs.map(toRoleView);
  }

  async permission(orgId: string, name: string): Promise<ApplicationPermissionView | undefined> {
    if (hasNul(orgId) || hasNul(name)) return undefined;
    const doc = await this.c.permissions.findOne({ _id: pairId(orgId, name) });
    return doc === null ? undefined : toPermissionView(doc);
  }

  async permissionsVisibleAt(orgId: string): Promise<ApplicationPermissionView[]> {
    const path = await this.pathOf(orgId);
    if (path.length === 0) return [];
    const docs = await this.c.permissions.find({ orgId: { $in: path } }).toArray();
    const level = new Map(path.map((id, i) => [id, i]));
    docs.sort((a, b) => level.get(a.orgId)! - level.get(b.orgId)! || compare(a.name, b.name));
    return docs.map(toPermissionView);
  }

  async permissionsNamed(name: string): Promise<ApplicationPermissionView[]> {
    if (hasNul(name)) return [];
    return (await this.c.permissions.find({ name }).sort({ orgId: 1 }).toArray()).map(toPermissionView);
  }

  async all(): Promise<RoleView[]> {
    return (await this.c.roles.find({}).sort({ _id: 1 }).toArray()).map(toRoleView);
  }

  async catalogPosition(): Promise<number> {
    const doc = await this.c.checkpoints.findOne({ _id: ROLE_CATALOG_CHECKPOINT });
    return doc?.position ?? 0;
  }

  /** The organization's ancestors, root first, and itself; empty for an unknown organization. */
  private async pathOf(orgId: string): Promise<string[]> {
    if (hasNul(orgId)) return [];
    const org = await this.c.orgs.findOne({ _id: orgId }, { projection: { ancestors: 1 } });
    return org === null ? [] : [...org.ancestors, orgId];
  }
}
