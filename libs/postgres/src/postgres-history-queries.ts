import {
  OPEN_VERSION,
  pastSubtreePage,
  type ApplicationPermissionView,
  type ClientView,
  type HistoryQueries,
  type OrgUserView,
  type OrgView,
  type Page,
  type PageRequest,
  type RoleView,
  type UserMembershipView,
  type UserView,
} from '@arbor/application';
import type { Role } from '@arbor/domain';
import type { Pool } from 'pg';
import { CLIENT_COLUMNS, toClientView, type ClientRow } from './postgres-client-queries';
import { memberFilterConditions, toOrgUserView, type OrgUserRow } from './postgres-membership-queries';
import { ANY_DEPTH, isChildrenKeyset, type ChildrenKeyset } from './postgres-org-queries';
import {
  PERMISSION_COLUMNS,
  ROLE_COLUMNS,
  toPermissionView,
  toRoleView,
  type PermissionRow,
  type RoleRow,
} from './postgres-role-queries';
import {
  afterId,
  decodePageCursor,
  emptyPage,
  hasNul,
  pageLimit,
  toPage,
  type IdKeyset,
} from './read-model-page-cursor';
import { parseRoles, toOrgView, type OrgRow } from './read-model-rows';
import { SqlParams, type ReadModelSql } from './read-models-schema';

/** "Valid at `p`" for the version alias `v`: [valid_from, valid_to) holds the position. */
const at = (v: string, p: string): string => `${v}.valid_from <= ${p} AND ${v}.valid_to > ${p}`;

/** An organization version's columns in OrgRow's shape, the depth given as an expression. */
const orgColumns = (depth: string): string =>
  `o.org_id AS id, o.name, o.parent_id, (${depth})::int AS depth, o.description, o.metadata, o.created_at, o.updated_at, o.version`;

type ChildRow = OrgRow & { c_distance: number; c_name_key: string };

/**
 * The temporal read model on PostgreSQL (HistoryQueries: the `*_versions` tables of the read-model migration
 * "temporal-read-model"), the same statements as the SQLite adapter's: a version by key at P is a primary-key
 * range (key, valid_from <= P) filtered by valid_to; the tree at P is walked with recursive statements over the
 * parent links valid at P.
 */
export class PostgresHistoryQueries implements HistoryQueries {
  private readonly up: string;
  private readonly orgAt: string;
  private readonly parentsAt: string;
  private readonly levelRows: string;
  private readonly levelIds: string;
  private readonly membershipAt: string;
  private readonly membershipsAt: string;
  private readonly userAt: string;
  private readonly clientAt: string;
  private readonly clientByClientIdAt: string;
  private readonly lastClientVersion: string;
  private readonly orgEnd: string;
  private readonly rolesAt: string;
  private readonly permissionsAt: string;

  constructor(
    private readonly pool: Pool,
    private readonly sql: ReadModelSql,
  ) {
    const orgs = sql.table('org_versions');
    // The ancestors at $2 of $1: (id, n) with n the distance above $1 (1 for the parent).
    this.up = `WITH RECURSIVE up(id, n) AS (
        SELECT v.parent_id, 1 FROM ${orgs} v WHERE v.org_id = $1 AND ${at('v', '$2')} AND v.parent_id IS NOT NULL
        UNION ALL
        SELECT v.parent_id, up.n + 1 FROM up JOIN ${orgs} v ON v.org_id = up.id AND ${at('v', '$2')}
        WHERE v.parent_id IS NOT NULL
      )`;
    this.orgAt = `${this.up} SELECT ${orgColumns('(SELECT count(*) FROM up)')}
      FROM ${orgs} o WHERE o.org_id = $1 AND ${at('o', '$2')}`;
    this.orgEnd = `SELECT max(o.valid_to)::text AS ended FROM ${orgs} o WHERE o.org_id = $1`;
    this.parentsAt = `${this.up} SELECT ${orgColumns('(SELECT count(*) FROM up) - up.n')}
      FROM up JOIN ${orgs} o ON o.org_id = up.id AND ${at('o', '$2')} ORDER BY up.n DESC`;
    // One level of a past subtree: the organizations whose parent at $2 is one of $1, in (name key, id) order.
    const level = (columns: string) => `SELECT ${columns} FROM ${orgs} o
      WHERE o.parent_id = ANY($1::text[]) AND ${at('o', '$2')} ORDER BY o.name_key, o.org_id`;
    this.levelRows = level(`${orgColumns('0')}, 0 AS c_distance, o.name_key AS c_name_key`);
    this.levelIds = level('o.org_id AS id');
    const memberships = sql.table('membership_versions');
    this.membershipAt = `SELECT m.roles, m.pending FROM ${memberships} m
      WHERE m.org_id = $1 AND m.user_id = $2 AND ${at('m', '$3')}`;
    this.membershipsAt = `SELECT m.org_id, o.name AS org_name, m.roles, m.added_at, m.pending
      FROM ${memberships} m JOIN ${orgs} o ON o.org_id = m.org_id AND ${at('o', '$2')}
      WHERE m.user_id = $1 AND ${at('m', '$2')} AND NOT m.pending
      ORDER BY m.org_id`;
    this.userAt = `SELECT v.status, v.platform_admin
      FROM ${sql.table('user_versions')} v WHERE v.user_id = $1 AND ${at('v', '$2')}`;
    const clients = sql.table('client_versions');
    this.clientAt = `SELECT ${CLIENT_COLUMNS} FROM ${clients} cl WHERE cl.id = $1 AND ${at('cl', '$2')}`;
    this.clientByClientIdAt = `SELECT ${CLIENT_COLUMNS} FROM ${clients} cl WHERE cl.client_id = $1 AND ${at('cl', '$2')}`;
    // The open version's valid_to is OPEN_VERSION: read as null (still active).
    this.lastClientVersion = `SELECT ${CLIENT_COLUMNS},
        CASE WHEN cl.valid_to = ${OPEN_VERSION} THEN NULL ELSE cl.valid_to::text END AS ended_at
      FROM ${clients} cl WHERE cl.client_id = $1 ORDER BY cl.valid_from DESC LIMIT 1`;
    this.rolesAt = `SELECT ${ROLE_COLUMNS} FROM ${sql.table('role_versions')} r WHERE ${at('r', '$1')} ORDER BY r.id`;
    this.permissionsAt = `SELECT ${PERMISSION_COLUMNS} FROM ${sql.table('application_permission_versions')} p
      WHERE p.org_id = ANY($1::text[]) AND ${at('p', '$2')} ORDER BY p.org_id, p.name`;
  }

  async org(orgId: string, position: number): Promise<OrgView | undefined> {
    if (hasNul(orgId)) return undefined;
    const [row] = await this.sql.rows<OrgRow>(this.pool, this.orgAt, [orgId, position]);
    return row === undefined ? undefined : toOrgView(row);
  }

  async parents(orgId: string, position: number): Promise<OrgView[]> {
    if (hasNul(orgId)) return [];
    return (await this.sql.rows<OrgRow>(this.pool, this.parentsAt, [orgId, position])).map(toOrgView);
  }

  /** Level by level (pastSubtreePage), each level one statement over the parent links of then. */
  async children(orgId: string, position: number, maxDepth: number | null, page: PageRequest): Promise<Page<OrgView>> {
    const root = await this.org(orgId, position);
    if (root === undefined) return emptyPage();
    const limit = pageLimit(page);
    const depth = maxDepth === null ? ANY_DEPTH : Math.min(Math.floor(maxDepth), ANY_DEPTH);
    const from: ChildrenKeyset =
      page.cursor === undefined ? { d: 0, k: '', i: '' } : decodePageCursor(page.cursor, isChildrenKeyset);
    const found = await pastSubtreePage<ChildRow>(
      {
        rows: (parents) => this.sql.rows<ChildRow>(this.pool, this.levelRows, [parents, position]),
        ids: async (parents) =>
          (await this.sql.rows<{ id: string }>(this.pool, this.levelIds, [parents, position])).map((r) => r.id),
        nameKey: (row) => row.c_name_key,
        id: (row) => row.id,
      },
      orgId,
      depth,
      from,
      limit + 1,
    );
    const rows = found.map(({ row, distance }) => ({ ...row, depth: root.depth + distance, c_distance: distance }));
    return toPage(rows, limit, toOrgView, (row): ChildrenKeyset => ({
      d: row.c_distance,
      k: row.c_name_key,
      i: row.id,
    }));
  }

  async members(
    orgId: string,
    position: number,
    filter: { role?: Role; q?: string },
    page: PageRequest,
  ): Promise<Page<OrgUserView>> {
    if (hasNul(orgId)) return emptyPage();
    const limit = pageLimit(page);
    const p = new SqlParams();
    const pos = p.add(position);
    const conditions = [
      `m.org_id = ${p.add(orgId)}`,
      `m.user_id > ${p.add(afterId(page))}`,
      at('m', pos),
      'NOT m.pending',
    ];
    // `q` matches today's email and name (personal data is not versioned).
    const filters = memberFilterConditions(p, filter);
    if (filters === undefined) return emptyPage();
    conditions.push(...filters);
    const rows = await this.sql.rows<OrgUserRow>(
      this.pool,
      `SELECT m.org_id, m.user_id, u.email, u.name,
         CASE WHEN u.status = 'erased' THEN 'erased' ELSE uv.status END AS status, m.roles, m.added_at, m.version,
         m.pending, uv.version AS user_version
       FROM ${this.sql.table('membership_versions')} m
       JOIN ${this.sql.table('user_versions')} uv ON uv.user_id = m.user_id AND ${at('uv', pos)}
       JOIN ${this.sql.table('users')} u ON u.id = m.user_id
       WHERE ${conditions.join(' AND ')}
       ORDER BY m.user_id LIMIT ${p.add(limit + 1)}`,
      p.values,
    );
    return toPage(rows, limit, toOrgUserView, (row): IdKeyset => ({ i: row.user_id }));
  }

  async memberships(userId: string, position: number): Promise<UserMembershipView[]> {
    if (hasNul(userId)) return [];
    const rows = await this.sql.rows<{
      org_id: string;
      org_name: string;
      roles: unknown[];
      added_at: string;
      pending: boolean;
    }>(this.pool, this.membershipsAt, [userId, position]);
    return rows.map((row) => ({
      orgId: row.org_id,
      orgName: row.org_name,
      roles: parseRoles(row.roles),
      addedAt: row.added_at,
      pending: row.pending,
    }));
  }

  async membership(
    orgId: string,
    userId: string,
    position: number,
  ): Promise<{ roles: Role[]; pending: boolean } | undefined> {
    if (hasNul(orgId) || hasNul(userId)) return undefined;
    const [row] = await this.sql.rows<{ roles: unknown[]; pending: boolean }>(this.pool, this.membershipAt, [
      orgId,
      userId,
      position,
    ]);
    return row === undefined ? undefined : { roles: parseRoles(row.roles), pending: row.pending };
  }

  async user(userId: string, position: number): Promise<Pick<UserView, 'status' | 'platformAdmin'> | undefined> {
    if (hasNul(userId)) return undefined;
    const [row] = await this.sql.rows<{ status: UserView['status']; platform_admin: boolean }>(this.pool, this.userAt, [
      userId,
      position,
    ]);
    return row === undefined ? undefined : { status: row.status, platformAdmin: row.platform_admin };
  }

  async orgEndedAt(orgId: string): Promise<number | undefined> {
    if (hasNul(orgId)) return undefined;
    const [row] = await this.sql.rows<{ ended: string | null }>(this.pool, this.orgEnd, [orgId]);
    const end = row?.ended == null ? undefined : Number(row.ended);
    return end === OPEN_VERSION ? undefined : end;
  }

  async client(id: string, position: number): Promise<ClientView | undefined> {
    if (hasNul(id)) return undefined;
    const [row] = await this.sql.rows<ClientRow>(this.pool, this.clientAt, [id, position]);
    return row === undefined ? undefined : toClientView(row);
  }

  async clientByClientId(clientId: string, position: number): Promise<ClientView | undefined> {
    if (hasNul(clientId)) return undefined;
    const [row] = await this.sql.rows<ClientRow>(this.pool, this.clientByClientIdAt, [clientId, position]);
    return row === undefined ? undefined : toClientView(row);
  }

  async lastClientByClientId(clientId: string): Promise<{ client: ClientView; endedAt: number | null } | undefined> {
    if (hasNul(clientId)) return undefined;
    const [row] = await this.sql.rows<ClientRow & { ended_at: string | null }>(this.pool, this.lastClientVersion, [
      clientId,
    ]);
    if (row === undefined) return undefined;
    return { client: toClientView(row), endedAt: row.ended_at === null ? null : Number(row.ended_at) };
  }

  async roles(position: number): Promise<RoleView[]> {
    return (await this.sql.rows<RoleRow>(this.pool, this.rolesAt, [position])).map(toRoleView);
  }

  async permissionsNamed(name: string, position: number): Promise<ApplicationPermissionView[]> {
    if (hasNul(name)) return [];
    const rows = await this.sql.rows<PermissionRow>(
      this.pool,
      `SELECT ${PERMISSION_COLUMNS} FROM ${this.sql.table('application_permission_versions')} p
       WHERE p.name = $1 AND ${at('p', '$2')} ORDER BY p.org_id`,
      [name, position],
    );
    return rows.map(toPermissionView);
  }

  async orgIdsAfter(
    scope: { subtreeRoots: readonly string[]; orgIds: readonly string[] } | 'all',
    position: number,
    afterId: string,
    limit: number,
  ): Promise<string[]> {
    const orgs = this.sql.table('org_versions');
    if (hasNul(afterId)) return [];
    if (scope === 'all') {
      const rows = await this.sql.rows<{ org_id: string }>(
        this.pool,
        `SELECT v.org_id FROM ${orgs} v WHERE v.org_id > $1 AND ${at('v', '$2')} ORDER BY v.org_id LIMIT $3`,
        [afterId, position, limit],
      );
      return rows.map((r) => r.org_id);
    }
    const rows = await this.sql.rows<{ id: string }>(
      this.pool,
      `WITH RECURSIVE down(id) AS (
         SELECT v.org_id FROM ${orgs} v WHERE v.org_id = ANY($1::text[]) AND ${at('v', '$4')}
         UNION
         SELECT v.org_id FROM down JOIN ${orgs} v ON v.parent_id = down.id AND ${at('v', '$4')}
       )
       SELECT id FROM down WHERE id > $3::text COLLATE "C"
       UNION
       SELECT v.org_id FROM ${orgs} v WHERE v.org_id = ANY($2::text[]) AND ${at('v', '$4')} AND v.org_id > $3::text COLLATE "C"
       ORDER BY 1 LIMIT $5`,
      [
        scope.subtreeRoots.filter((id) => !hasNul(id)),
        scope.orgIds.filter((id) => !hasNul(id)),
        afterId,
        position,
        limit,
      ],
    );
    return rows.map((r) => r.id);
  }

  async userIdsAfter(
    grants: ReadonlyArray<{ orgId: string; roles: readonly Role[] }>,
    platformAdmins: boolean,
    position: number,
    afterId: string,
    limit: number,
  ): Promise<string[]> {
    if (hasNul(afterId)) return [];
    const m = this.sql.table('membership_versions');
    const uv = this.sql.table('user_versions');
    const rows = await this.sql.rows<{ user_id: string }>(
      this.pool,
      `SELECT m.user_id FROM jsonb_array_elements($1::jsonb) g
         JOIN ${m} m ON m.org_id = (g->>'orgId') AND ${at('m', '$4')}
       WHERE NOT m.pending AND m.user_id > $3::text COLLATE "C"
         AND m.roles ?| ARRAY(SELECT jsonb_array_elements_text(g->'roles'))
         AND EXISTS (SELECT 1 FROM ${uv} v WHERE v.user_id = m.user_id AND ${at('v', '$4')} AND v.status = 'active')
       UNION
       SELECT v.user_id FROM ${uv} v
       WHERE $2 AND v.platform_admin AND v.status = 'active'
         AND v.user_id > $3::text COLLATE "C" AND ${at('v', '$4')}
       ORDER BY 1 LIMIT $5`,
      [JSON.stringify(grants), platformAdmins, afterId, position, limit],
    );
    return rows.map((r) => r.user_id);
  }

  async clientsAfter(
    orgIds: readonly string[],
    scope: string,
    position: number,
    afterId: string,
    limit: number,
    roleGrants: ReadonlyArray<{ orgId: string; roles: readonly string[] }> = [],
  ): Promise<Array<{ id: string; clientId: string }>> {
    if (hasNul(afterId) || hasNul(scope)) return [];
    const rows = await this.sql.rows<{ id: string; client_id: string }>(
      this.pool,
      `SELECT cl.id, cl.client_id FROM ${this.sql.table('client_versions')} cl
       WHERE cl.org_id = ANY($1::text[]) AND ${at('cl', '$5')} AND cl.id > $4::text COLLATE "C"
         AND (cl.scopes ? $2::text
           OR EXISTS (SELECT 1 FROM jsonb_array_elements($3::jsonb) g
                      WHERE g->>'orgId' = cl.org_id AND cl.roles ?| ARRAY(SELECT jsonb_array_elements_text(g->'roles'))))
       ORDER BY cl.id LIMIT $6`,
      [[...new Set(orgIds)].filter((id) => !hasNul(id)), scope, JSON.stringify(roleGrants), afterId, position, limit],
    );
    return rows.map((row) => ({ id: row.id, clientId: row.client_id }));
  }

  async permissionsOn(orgIds: readonly string[], position: number): Promise<ApplicationPermissionView[]> {
    const ids = [...new Set(orgIds)].filter((id) => !hasNul(id));
    if (ids.length === 0) return [];
    return (await this.sql.rows<PermissionRow>(this.pool, this.permissionsAt, [ids, position])).map(toPermissionView);
  }
}
