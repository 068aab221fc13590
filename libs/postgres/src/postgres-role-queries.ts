import type { ApplicationPermissionView, RoleQueries, RoleView } from '@arbor/application';
import type { Pool } from 'pg';
import { hasNul } from './read-model-page-cursor';
import { ROLE_CATALOG_CHECKPOINT, type ReadModelSql } from './read-models-schema';

export const ROLE_COLUMNS =
  'r.id, r.org_id, r.name, r.description, r.permissions, r.applies_to, r.created_at, r.updated_at, r.version';

export interface RoleRow {
  id: string;
  org_id: string;
  name: string;
  description: string;
  /** jsonb, parsed. */
  permissions: string[];
  applies_to: RoleView['appliesTo'];
  created_at: string;
  updated_at: string;
  version: number;
}

export const toRoleView = (row: RoleRow): RoleView => ({
  id: row.id,
  orgId: row.org_id,
  name: row.name,
  description: row.description,
  permissions: row.permissions,
  appliesTo: row.applies_to,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
  version: row.version,
});

export const PERMISSION_COLUMNS = 'p.name, p.org_id, p.description, p.created_at, p.updated_at, p.version';

export interface PermissionRow {
  name: string;
  org_id: string;
  description: string;
  created_at: string;
  updated_at: string;
  version: number;
}

export const toPermissionView = (row: PermissionRow): ApplicationPermissionView => ({
  name: row.name,
  orgId: row.org_id,
  description: row.description,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
  version: row.version,
});

/**
 * Custom roles and application permissions, a port of SqliteRoleQueries: "visible at O" walks O's ancestors
 * through `org_closure_parents`, root first, and joins each one's definitions by `roles_org` / the
 * permissions' primary key. Ids holding U+0000 match nothing (PostgreSQL text cannot hold it).
 */
export class PostgresRoleQueries implements RoleQueries {
  private readonly byId: string;
  private readonly rolesVisibleAt: string;
  private readonly permissionOn: string;
  private readonly permissionsVisible: string;
  private readonly named: string;
  private readonly everyRole: string;
  private readonly position: string;

  constructor(
    private readonly pool: Pool,
    private readonly sql: ReadModelSql,
  ) {
    const roles = sql.table('roles');
    const permissions = sql.table('application_permissions');
    const closure = sql.table('org_closure');
    this.byId = `SELECT ${ROLE_COLUMNS} FROM ${roles} r WHERE r.id = $1`;
    this.rolesVisibleAt = `SELECT ${ROLE_COLUMNS} FROM ${closure} c JOIN ${roles} r ON r.org_id = c.ancestor_id
      WHERE c.descendant_id = $1 ORDER BY c.distance DESC, r.id`;
    this.permissionOn = `SELECT ${PERMISSION_COLUMNS} FROM ${permissions} p WHERE p.org_id = $1 AND p.name = $2`;
    this.permissionsVisible = `SELECT ${PERMISSION_COLUMNS} FROM ${closure} c
      JOIN ${permissions} p ON p.org_id = c.ancestor_id
      WHERE c.descendant_id = $1 ORDER BY c.distance DESC, p.name`;
    this.named = `SELECT ${PERMISSION_COLUMNS} FROM ${permissions} p WHERE p.name = $1 ORDER BY p.org_id`;
    this.everyRole = `SELECT ${ROLE_COLUMNS} FROM ${roles} r ORDER BY r.id`;
    this.position = `SELECT position FROM ${sql.table('checkpoint')} WHERE name = '${ROLE_CATALOG_CHECKPOINT}'`;
  }

  async get(roleId: string): Promise<RoleView | undefined> {
    if (hasNul(roleId)) return undefined;
    const [row] = await this.sql.rows<RoleRow>(this.pool, this.byId, [roleId]);
    return row === undefined ? undefined : toRoleView(row);
  }

  async visibleAt(orgId: string): Promise<RoleView[]> {
    if (hasNul(orgId)) return [];
    return (await this.sql.rows<RoleRow>(this.pool, this.rolesVisibleAt, [orgId])).map(toRoleView);
  }

  async permission(orgId: string, name: string): Promise<ApplicationPermissionView | undefined> {
    if (hasNul(orgId) || hasNul(name)) return undefined;
    const [row] = await this.sql.rows<PermissionRow>(this.pool, this.permissionOn, [orgId, name]);
    return row === undefined ? undefined : toPermissionView(row);
  }

  async permissionsVisibleAt(orgId: string): Promise<ApplicationPermissionView[]> {
    if (hasNul(orgId)) return [];
    return (await this.sql.rows<PermissionRow>(this.pool, this.permissionsVisible, [orgId])).map(toPermissionView);
  }

  async permissionsNamed(name: string): Promise<ApplicationPermissionView[]> {
    if (hasNul(name)) return [];
    return (await this.sql.rows<PermissionRow>(this.pool, this.named, [name])).map(toPermissionView);
  }

  async all(): Promise<RoleView[]> {
    return (await this.sql.rows<RoleRow>(this.pool, this.everyRole, [])).map(toRoleView);
  }

  async catalogPosition(): Promise<number> {
    const [row] = await this.sql.rows<{ position: string }>(this.pool, this.position, []);
    return row === undefined ? 0 : Number(row.position);
  }
}
