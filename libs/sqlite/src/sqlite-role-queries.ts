import type { ApplicationPermissionView, RoleQueries, RoleView } from '@arbor/application';
import type { Statement } from 'better-sqlite3';
import type { SqliteDatabase } from './open-sqlite-database';
import { ROLE_CATALOG_CHECKPOINT } from './read-model-statements';

/** Columns of `roles r`, in `RoleTuple` order (rows read as arrays). */
export const ROLE_COLUMNS =
  'r.id, r.org_id, r.name, r.description, r.permissions, r.applies_to, r.created_at, r.updated_at, r.version';

export type RoleTuple = [
  id: string,
  orgId: string,
  name: string,
  description: string,
  permissions: string,
  appliesTo: RoleView['appliesTo'],
  createdAt: string,
  updatedAt: string,
  version: number,
];

export const toRoleView = (row: RoleTuple): RoleView => ({
  id: row[0],
  orgId: row[1],
  name: row[2],
  description: row[3],
  permissions: JSON.parse(row[4]) as string[],
  appliesTo: row[5],
  createdAt: row[6],
  updatedAt: row[7],
  version: row[8],
});

export const PERMISSION_COLUMNS = 'p.name, p.org_id, p.description, p.created_at, p.updated_at, p.version';

export type PermissionTuple = [
  name: string,
  orgId: string,
  description: string,
  createdAt: string,
  updatedAt: string,
  version: number,
];

export const toPermissionView = (row: PermissionTuple): ApplicationPermissionView => ({
  name: row[0],
  orgId: row[1],
  description: row[2],
  createdAt: row[3],
  updatedAt: row[4],
  version: row[5],
});

/**
 * Custom roles and application permissions. "Visible at O" walks the ancestors of O through
 * `org_closure_parents` (one range, root first by the largest distance) and joins each ancestor's
 * definitions by `roles_org` / the permissions' primary key: no recursive walk, no scan.
 */
export class SqliteRoleQueries implements RoleQueries {
  private readonly byId: Statement<[string], RoleTuple>;
  private readonly rolesVisibleAt: Statement<[string], RoleTuple>;
  private readonly permissionOn: Statement<[string, string], PermissionTuple>;
  private readonly permissionsVisible: Statement<[string], PermissionTuple>;
  private readonly named: Statement<[string], PermissionTuple>;
  private readonly everyRole: Statement<[], RoleTuple>;
  private readonly position: Statement<[], number>;

  constructor(db: SqliteDatabase) {
    this.byId = db.prepare<[string], RoleTuple>(`SELECT ${ROLE_COLUMNS} FROM roles r WHERE r.id = ?`).raw(true);
    this.rolesVisibleAt = db
      .prepare<[string], RoleTuple>(
        `SELECT ${ROLE_COLUMNS} FROM org_closure c JOIN roles r ON r.org_id = c.ancestor_id
         WHERE c.descendant_id = ? ORDER BY c.distance DESC, r.id`,
      )
      .raw(true);
    this.permissionOn = db
      .prepare<[string, string], PermissionTuple>(
        `SELECT ${PERMISSION_COLUMNS} FROM application_permissions p WHERE p.org_id = ? AND p.name = ?`,
      )
      .raw(true);
    this.permissionsVisible = db
      .prepare<[string], PermissionTuple>(
        `SELECT ${PERMISSION_COLUMNS} FROM org_closure c JOIN application_permissions p ON p.org_id = c.ancestor_id
         WHERE c.descendant_id = ? ORDER BY c.distance DESC, p.name`,
      )
      .raw(true);
    this.named = db
      .prepare<[string], PermissionTuple>(
        `SELECT ${PERMISSION_COLUMNS} FROM application_permissions p WHERE p.name = ? ORDER BY p.org_id`,
      )
      .raw(true);
    this.everyRole = db.prepare<[], RoleTuple>(`SELECT ${ROLE_COLUMNS} FROM roles r ORDER BY r.id`).raw(true);
    this.position = db
      .prepare<[], number>(`SELECT position FROM checkpoint WHERE name = '${ROLE_CATALOG_CHECKPOINT}'`)
      .pluck();
  }

  async get(roleId: string): Promise<RoleView | undefined> {
    const row = this.byId.get(roleId);
    return row === undefined ? undefined : toRoleView(row);
  }

  async visibleAt(orgId: string): Promise<RoleView[]> {
    return this.rolesVisibleAt.all(orgId).map(toRoleView);
  }

  async permission(orgId: string, name: string): Promise<ApplicationPermissionView | undefined> {
    const row = this.permissionOn.get(orgId, name);
    return row === undefined ? undefined : toPermissionView(row);
  }

  async permissionsVisibleAt(orgId: string): Promise<ApplicationPermissionView[]> {
    return this.permissionsVisible.all(orgId).map(toPermissionView);
  }

  async permissionsNamed(name: string): Promise<ApplicationPermissionView[]> {
    return this.named.all(name).map(toPermissionView);
  }

  async all(): Promise<RoleView[]> {
    return this.everyRole.all().map(toRoleView);
  }

  async catalogPosition(): Promise<number> {
    return this.position.get() ?? 0;
  }
}
