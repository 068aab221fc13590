import { OPEN_VERSION, type VersionedRow } from '@arbor/application';
import type { ReadModelSql } from './read-models-schema';

/** A versioned table: its present table, key columns (version's name, present's name) and the columns copied. */
interface VersionedTable {
  versions: string;
  present: string;
  key: Array<[string, string]>;
  copy: string[];
}

/** The same tables as the SQLite adapter's (read-model migration "temporal-read-model"); copied columns keep their names. */
const TABLES: { [K in VersionedRow['kind']]: VersionedTable } = {
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

/** The key of a versioned row, as the statement's `$2`, `$3` (`$1` is the position). */
const KEY_VALUES: { [K in VersionedRow['kind']]: (row: Extract<VersionedRow, { kind: K }>) => string[] } = {
  org: (r) => [r.orgId],
  user: (r) => [r.userId],
  membership: (r) => [r.orgId, r.userId],
  client: (r) => [r.id],
  role: (r) => [r.roleId],
  permission: (r) => [r.orgId, r.name],
};

/**
 * ReadModelEngine.recordVersion in one statement per kind of row: a data-modifying CTE ends the open version at
 * `$1`, and the insert copies the present row as a version from `$1` (an event applied again replaces its own).
 * Both parts see the same snapshot and touch different rows (valid_from below `$1`, and equal to it).
 */
export function versionStatements(sql: ReadModelSql): { [K in VersionedRow['kind']]: string } {
  const out = {} as { [K in VersionedRow['kind']]: string };
  for (const [kind, t] of Object.entries(TABLES) as Array<[VersionedRow['kind'], VersionedTable]>) {
    const versions = sql.table(t.versions);
    const keyOfVersion = t.key.map(([column], i) => `${column} = $${i + 2}`).join(' AND ');
    const keyOfPresent = t.key.map(([, column], i) => `${column} = $${i + 2}`).join(' AND ');
    out[kind] = `
      WITH closed AS (
        UPDATE ${versions} SET valid_to = $1
        WHERE ${keyOfVersion} AND valid_to = ${OPEN_VERSION} AND valid_from < $1
      )
      INSERT INTO ${versions} (${[...t.key.map(([c]) => c), 'valid_from', 'valid_to', ...t.copy].join(', ')})
      SELECT ${[...t.key.map(([, c]) => c), '$1::bigint', String(OPEN_VERSION), ...t.copy].join(', ')}
      FROM ${sql.table(t.present)} WHERE ${keyOfPresent}
      ON CONFLICT (${[...t.key.map(([c]) => c), 'valid_from'].join(', ')})
      DO UPDATE SET ${['valid_to', ...t.copy].map((c) => `${c} = EXCLUDED.${c}`).join(', ')}`;
  }
  return out;
}

/** The values of a `versionStatements` statement for `row` at `position`. */
export const versionValues = (row: VersionedRow, position: number): unknown[] => [
  position,
  ...(KEY_VALUES[row.kind] as (r: VersionedRow) => string[])(row),
];

/** ReadModelEngine.endOrgVersions in one statement: `$1` the position, `$2` the organization. */
export function endOrgVersionsStatement(sql: ReadModelSql): string {
  const tables = ['membership_versions', 'client_versions', 'role_versions', 'application_permission_versions'];
  const updates = tables.map(
    (t, i) =>
      `u${i} AS (UPDATE ${sql.table(t)} SET valid_to = $1 WHERE org_id = $2 AND valid_to = ${OPEN_VERSION} AND valid_from < $1)`,
  );
  return `WITH ${updates.join(', ')} SELECT 1`;
}
