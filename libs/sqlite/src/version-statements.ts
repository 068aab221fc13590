import { OPEN_VERSION, type VersionedRow } from '@arbor/application';
import type { Statement } from 'better-sqlite3';
import type { SqliteDatabase } from './open-sqlite-database';

type Params = Record<string, unknown>;

/**
 * Per versioned table: the present table, the key's columns (the version's name, then the present row's; bound as
 * `@k0`, `@k1`) and the columns copied from the present row into a version (the same names in both).
 */
const TABLES: {
  [K in VersionedRow['kind']]: {
    versions: string;
    present: string;
    key: Array<[string, string]>;
    copy: string[];
  };
} = {
  org: {
    versions: 'org_versions',
    present: 'orgs',
    key: [['org_id', 'id']],
    copy: ['name', 'name_key', 'parent_id', 'description', 'metadata', 'created_at', 'updated_at', 'version'],
  },
  user: {
    versions: 'user_versions',
    present: 'users',
    key: [['user_id', 'id']],
    copy: ['status', 'platform_admin', 'version'],
  },
  membership: {
    versions: 'membership_versions',
    present: 'memberships',
    key: [
      ['org_id', 'org_id'],
      ['user_id', 'user_id'],
    ],
    copy: ['roles', 'pending', 'added_at', 'version'],
  },
  client: {
    versions: 'client_versions',
    present: 'clients',
    key: [['id', 'id']],
    copy: [
      'client_id',
      'name',
      'org_id',
      'scopes',
      'roles',
      'roles_granted_by_event_id',
      'roles_granted_by_position',
      'created_at',
      'version',
    ],
  },
  role: {
    versions: 'role_versions',
    present: 'roles',
    key: [['id', 'id']],
    copy: ['org_id', 'name', 'description', 'permissions', 'applies_to', 'created_at', 'updated_at', 'version'],
  },
  permission: {
    versions: 'application_permission_versions',
    present: 'application_permissions',
    key: [
      ['org_id', 'org_id'],
      ['name', 'name'],
    ],
    copy: ['description', 'created_at', 'updated_at', 'version'],
  },
};

/** The key of a versioned row as named parameters (`k0`, `k1`). */
function keyParams(row: VersionedRow): Params {
  switch (row.kind) {
    case 'org':
      return { k0: row.orgId };
    case 'user':
      return { k0: row.userId };
    case 'membership':
      return { k0: row.orgId, k1: row.userId };
    case 'client':
      return { k0: row.id };
    case 'role':
      return { k0: row.roleId };
    case 'permission':
      return { k0: row.orgId, k1: row.name };
  }
}

/**
 * The SQLite side of ReadModelEngine.recordVersion: for each kind of row, one statement ending the open version
 * and one copying the present row (INSERT OR REPLACE: an event applied again replaces its own version).
 */
export class VersionStatements {
  private readonly close = new Map<VersionedRow['kind'], Statement<Params>>();
  private readonly open = new Map<VersionedRow['kind'], Statement<Params>>();

  private readonly endOfOrg: Array<Statement<Params>>;

  constructor(db: SqliteDatabase) {
    this.endOfOrg = ['membership_versions', 'client_versions', 'role_versions', 'application_permission_versions'].map(
      (table) =>
        db.prepare(
          `UPDATE ${table} SET valid_to = @at WHERE org_id = @org AND valid_to = ${OPEN_VERSION} AND valid_from < @at`,
        ),
    );
    for (const [kind, t] of Object.entries(TABLES) as Array<[VersionedRow['kind'], (typeof TABLES)['org']]>) {
      const keyOfVersion = t.key.map(([column], i) => `${column} = @k${i}`).join(' AND ');
      const keyOfPresent = t.key.map(([, column], i) => `${column} = @k${i}`).join(' AND ');
      this.close.set(
        kind,
        db.prepare(
          `UPDATE ${t.versions} SET valid_to = @at
           WHERE ${keyOfVersion} AND valid_to = ${OPEN_VERSION} AND valid_from < @at`,
        ),
      );
      this.open.set(
        kind,
        db.prepare(
          `INSERT OR REPLACE INTO ${t.versions}
             (${[...t.key.map(([c]) => c), 'valid_from', 'valid_to', ...t.copy].join(', ')})
           SELECT ${[...t.key.map(([, c]) => c), '@at', String(OPEN_VERSION), ...t.copy].join(', ')}
           FROM ${t.present} WHERE ${keyOfPresent}`,
        ),
      );
    }
  }

  /** ReadModelEngine.endOrgVersions: the organization's memberships, clients, roles and permissions. */
  endOrg(orgId: string, position: number): void {
    for (const statement of this.endOfOrg) statement.run({ org: orgId, at: position });
  }

  record(row: VersionedRow, position: number): void {
    const params = { ...keyParams(row), at: position };
    this.close.get(row.kind)!.run(params);
    this.open.get(row.kind)!.run(params);
  }
}
