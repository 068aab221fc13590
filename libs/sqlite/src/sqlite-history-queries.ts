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
import type { Statement } from 'better-sqlite3';
import type { SqliteDatabase } from './open-sqlite-database';
import { afterId, decodePageCursor, emptyPage, hasNul, pageLimit, toPage, type IdKeyset } from './page-cursor';
import { containsPattern, parseRoles, toOrgView, type OrgTuple } from './read-model-rows';
import { CLIENT_COLUMNS, toClientView, type ClientTuple } from './sqlite-client-queries';
import { toOrgUserView, type OrgUserTuple } from './sqlite-membership-queries';
import { ANY_DEPTH, isChildrenKeyset, type ChildrenKeyset } from './sqlite-org-queries';
import {
  PERMISSION_COLUMNS,
  ROLE_COLUMNS,
  toPermissionView,
  toRoleView,
  type PermissionTuple,
  type RoleTuple,
} from './sqlite-role-queries';
import { StatementCache } from './statement-cache';

/** "Valid at @at" for the version alias `v`: [valid_from, valid_to) holds the position. */
const at = (v: string): string => `${v}.valid_from <= @at AND ${v}.valid_to > @at`;

/** An organization version's columns in OrgTuple order, the depth given as an expression. */
const orgColumns = (depth: string): string =>
  `o.org_id, o.name, o.parent_id, ${depth}, o.description, o.metadata, o.created_at, o.updated_at, o.version`;

/** The ancestors at @at of @id: (id, n) with n its distance above @id (1 for the parent). */
const UP = `WITH RECURSIVE up(id, n) AS (
    SELECT v.parent_id, 1 FROM org_versions v WHERE v.org_id = @id AND ${at('v')} AND v.parent_id IS NOT NULL
    UNION ALL
    SELECT v.parent_id, up.n + 1 FROM up JOIN org_versions v ON v.org_id = up.id AND ${at('v')}
    WHERE v.parent_id IS NOT NULL
  )`;

type ChildTuple = [...OrgTuple, distance: number, nameKey: string];
/** A row of one level of a past subtree: the organization (its depth left 0) and its name key. */
type LevelTuple = [...OrgTuple, nameKey: string];

/**
 * The temporal read model on SQLite (HistoryQueries: the `*_versions` tables of read-model migration 11). A
 * version by key at P is a primary-key range seek (key, valid_from <= P) filtered by valid_to; the tree at P is
 * walked with recursive statements over the parent links valid at P (`org_versions_parent` downwards).
 */
export class SqliteHistoryQueries implements HistoryQueries {
  private readonly orgAt: Statement<Record<string, unknown>, OrgTuple>;
  private readonly orgEnd: Statement<[string], number | null>;
  private readonly parentsAt: Statement<Record<string, unknown>, OrgTuple>;
  private readonly membershipAt: Statement<Record<string, unknown>, { roles: string; pending: number }>;
  private readonly membershipsAt: Statement<
    Record<string, unknown>,
    { org_id: string; org_name: string; roles: string; added_at: string; pending: number }
  >;
  private readonly userAt: Statement<Record<string, unknown>, { status: UserView['status']; platform_admin: number }>;
  private readonly clientAt: Statement<Record<string, unknown>, ClientTuple>;
  private readonly clientByClientIdAt: Statement<Record<string, unknown>, ClientTuple>;
  private readonly lastClientVersion: Statement<[string], [...ClientTuple, number]>;
  private readonly rolesAt: Statement<Record<string, unknown>, RoleTuple>;
  private readonly permissionsAt: Statement<Record<string, unknown>, PermissionTuple>;
  private readonly levelRows: Statement<Record<string, unknown>, LevelTuple>;
  private readonly levelIds: Statement<Record<string, unknown>, string>;
  private readonly lists: StatementCache;

  constructor(db: SqliteDatabase) {
    this.lists = new StatementCache(db);
    const level = (columns: string) =>
      `SELECT ${columns} FROM json_each(@ids) p
       CROSS JOIN org_versions o INDEXED BY org_versions_parent ON o.parent_id = p.value AND ${at('o')}
       ORDER BY o.name_key, o.org_id`;
    this.levelRows = db.prepare<Record<string, unknown>, LevelTuple>(level(`${orgColumns('0')}, o.name_key`)).raw(true);
    this.levelIds = db.prepare<Record<string, unknown>, string>(level('o.org_id')).pluck();
    this.orgAt = db
      .prepare<Record<string, unknown>, OrgTuple>(
        `${UP} SELECT ${orgColumns('(SELECT count(*) FROM up)')} FROM org_versions o WHERE o.org_id = @id AND ${at('o')}`,
      )
      .raw(true);
    // The primary key (org_id, valid_from) serves it; null when no version exists.
    this.orgEnd = db
      .prepare<[string], number | null>('SELECT max(valid_to) FROM org_versions WHERE org_id = ?')
      .pluck();
    this.parentsAt = db
      .prepare<Record<string, unknown>, OrgTuple>(
        `${UP} SELECT ${orgColumns('(SELECT count(*) FROM up) - up.n')}
         FROM up JOIN org_versions o ON o.org_id = up.id AND ${at('o')} ORDER BY up.n DESC`,
      )
      .raw(true);
    this.membershipAt = db.prepare(
      `SELECT m.roles, m.pending FROM membership_versions m
       WHERE m.org_id = @org AND m.user_id = @user AND ${at('m')}`,
    );
    this.membershipsAt = db.prepare(
      `SELECT m.org_id, o.name AS org_name, m.roles, m.added_at, m.pending
       FROM membership_versions m INDEXED BY membership_versions_user
       JOIN org_versions o ON o.org_id = m.org_id AND ${at('o')}
       WHERE m.user_id = @user AND ${at('m')} AND m.pending = 0
       ORDER BY m.org_id`,
    );
    this.userAt = db.prepare(
      `SELECT v.status, v.platform_admin FROM user_versions v WHERE v.user_id = @user AND ${at('v')}`,
    );
    this.clientAt = db
      .prepare<Record<string, unknown>, ClientTuple>(
        `SELECT ${CLIENT_COLUMNS} FROM client_versions cl WHERE cl.id = @id AND ${at('cl')}`,
      )
      .raw(true);
    this.clientByClientIdAt = db
      .prepare<Record<string, unknown>, ClientTuple>(
        `SELECT ${CLIENT_COLUMNS} FROM client_versions cl WHERE cl.client_id = @id AND ${at('cl')}`,
      )
      .raw(true);
    this.lastClientVersion = db
      .prepare<[string], [...ClientTuple, number]>(
        `SELECT ${CLIENT_COLUMNS}, cl.valid_to FROM client_versions cl INDEXED BY client_versions_client_id
         WHERE cl.client_id = ? ORDER BY cl.valid_from DESC LIMIT 1`,
      )
      .raw(true);
    this.rolesAt = db
      .prepare<Record<string, unknown>, RoleTuple>(
        `SELECT ${ROLE_COLUMNS} FROM role_versions r WHERE ${at('r')} ORDER BY r.id`,
      )
      .raw(true);
    this.permissionsAt = db
      .prepare<Record<string, unknown>, PermissionTuple>(
        `SELECT ${PERMISSION_COLUMNS} FROM json_each(@ids) ids
         CROSS JOIN application_permission_versions p ON p.org_id = ids.value AND ${at('p')}
         ORDER BY p.org_id, p.name`,
      )
      .raw(true);
  }

  async org(orgId: string, position: number): Promise<OrgView | undefined> {
    const row = this.orgAt.get({ id: orgId, at: position });
    return row === undefined ? undefined : toOrgView(row);
  }

  async parents(orgId: string, position: number): Promise<OrgView[]> {
    return this.parentsAt.all({ id: orgId, at: position }).map(toOrgView);
  }

  /** Level by level (pastSubtreePage), each level one statement over the parent links of then. */
  async children(orgId: string, position: number, maxDepth: number | null, page: PageRequest): Promise<Page<OrgView>> {
    const root = await this.org(orgId, position);
    if (root === undefined) return emptyPage();
    const limit = pageLimit(page);
    const from: ChildrenKeyset =
      page.cursor === undefined ? { d: 0, k: '', i: '' } : decodePageCursor(page.cursor, isChildrenKeyset);
    const ids = (parents: readonly string[]) => JSON.stringify(parents);
    const found = await pastSubtreePage<LevelTuple>(
      {
        rows: async (parents) => this.levelRows.all({ ids: ids(parents), at: position }),
        ids: async (parents) => this.levelIds.all({ ids: ids(parents), at: position }),
        nameKey: (row) => row[9],
        id: (row) => row[0],
      },
      orgId,
      maxDepth ?? ANY_DEPTH,
      from,
      limit + 1,
    );
    const rows = found.map(({ row, distance }): ChildTuple => {
      const [id, name, parentId, , description, metadata, createdAt, updatedAt, version, nameKey] = row;
      return [
        id,
        name,
        parentId,
        root.depth + distance,
        description,
        metadata,
        createdAt,
        updatedAt,
        version,
        distance,
        nameKey,
      ];
    });
    return toPage(rows, limit, toOrgView, (row): ChildrenKeyset => ({ d: row[9], k: row[10], i: row[0] }));
  }

  async members(
    orgId: string,
    position: number,
    filter: { role?: Role; q?: string },
    page: PageRequest,
  ): Promise<Page<OrgUserView>> {
    const conditions: string[] = [];
    const params: Record<string, unknown> = { org: orgId, at: position, after: afterId(page) };
    if (filter.role !== undefined) {
      conditions.push('EXISTS (SELECT 1 FROM json_each(m.roles) WHERE value = @role)');
      params.role = filter.role;
    }
    if (filter.q !== undefined && hasNul(filter.q)) return emptyPage();
    if (filter.q !== undefined && filter.q !== '') {
      // Today's email and name: erased users have NULL keys, which match no LIKE.
      conditions.push(`(u.email_key LIKE @q ESCAPE '\\' OR u.name_key LIKE @q ESCAPE '\\')`);
      params.q = containsPattern(filter.q);
    }
    const limit = pageLimit(page);
    params.limit = limit + 1;
    const statement = this.lists.get<OrgUserTuple>(
      `SELECT m.org_id, m.user_id, u.email, u.name,
         CASE WHEN u.status = 'erased' THEN 'erased' ELSE uv.status END, m.roles, m.added_at, m.version, m.pending,
         uv.version
       FROM membership_versions m
       JOIN user_versions uv ON uv.user_id = m.user_id AND ${at('uv')}
       JOIN users u ON u.id = m.user_id
       WHERE m.org_id = @org AND m.user_id > @after AND ${at('m')} AND m.pending = 0${conditions
         .map((c) => ` AND ${c}`)
         .join('')}
       ORDER BY m.user_id LIMIT @limit`,
      true,
    );
    return toPage(statement.all(params), limit, toOrgUserView, (row): IdKeyset => ({ i: row[1] }));
  }

  async memberships(userId: string, position: number): Promise<UserMembershipView[]> {
    return this.membershipsAt.all({ user: userId, at: position }).map((row) => ({
      orgId: row.org_id,
      orgName: row.org_name,
      roles: parseRoles(row.roles),
      addedAt: row.added_at,
      pending: row.pending !== 0,
    }));
  }

  async membership(
    orgId: string,
    userId: string,
    position: number,
  ): Promise<{ roles: Role[]; pending: boolean } | undefined> {
    const row = this.membershipAt.get({ org: orgId, user: userId, at: position });
    return row === undefined ? undefined : { roles: parseRoles(row.roles), pending: row.pending !== 0 };
  }

  async user(userId: string, position: number): Promise<Pick<UserView, 'status' | 'platformAdmin'> | undefined> {
    const row = this.userAt.get({ user: userId, at: position });
    return row === undefined ? undefined : { status: row.status, platformAdmin: row.platform_admin !== 0 };
  }

  async orgEndedAt(orgId: string): Promise<number | undefined> {
    const end = this.orgEnd.get(orgId);
    return end === null || end === undefined || end === OPEN_VERSION ? undefined : end;
  }

  async client(id: string, position: number): Promise<ClientView | undefined> {
    const row = this.clientAt.get({ id, at: position });
    return row === undefined ? undefined : toClientView(row);
  }

  async clientByClientId(clientId: string, position: number): Promise<ClientView | undefined> {
    const row = this.clientByClientIdAt.get({ id: clientId, at: position });
    return row === undefined ? undefined : toClientView(row);
  }

  async lastClientByClientId(clientId: string): Promise<{ client: ClientView; endedAt: number | null } | undefined> {
    const row = this.lastClientVersion.get(clientId);
    if (row === undefined) return undefined;
    const validTo = row[row.length - 1] as number;
    return {
      client: toClientView(row.slice(0, -1) as unknown as ClientTuple),
      endedAt: validTo === OPEN_VERSION ? null : validTo,
    };
  }

  async roles(position: number): Promise<RoleView[]> {
    return this.rolesAt.all({ at: position }).map(toRoleView);
  }

  async permissionsNamed(name: string, position: number): Promise<ApplicationPermissionView[]> {
    return this.lists
      .get<PermissionTuple>(
        `SELECT ${PERMISSION_COLUMNS} FROM application_permission_versions p
         WHERE p.name = @name AND ${at('p')} ORDER BY p.org_id`,
        true,
      )
      .all({ name, at: position })
      .map(toPermissionView);
  }

  async orgIdsAfter(
    scope: { subtreeRoots: readonly string[]; orgIds: readonly string[] } | 'all',
    position: number,
    afterId: string,
    limit: number,
  ): Promise<string[]> {
    if (scope === 'all')
      return this.lists
        .get<string>(
          `SELECT v.org_id FROM org_versions v WHERE v.org_id > @after AND ${at('v')} ORDER BY v.org_id LIMIT @limit`,
        )
        .pluck()
        .all({ after: afterId, at: position, limit });
    return this.lists
      .get<string>(
        `WITH RECURSIVE down(id) AS (
           SELECT v.org_id FROM json_each(@roots) r CROSS JOIN org_versions v ON v.org_id = r.value AND ${at('v')}
           UNION
           SELECT v.org_id FROM down JOIN org_versions v INDEXED BY org_versions_parent
             ON v.parent_id = down.id AND ${at('v')}
         )
         SELECT id FROM down WHERE id > @after
         UNION
         SELECT v.org_id FROM json_each(@singles) s CROSS JOIN org_versions v ON v.org_id = s.value AND ${at('v')}
         WHERE v.org_id > @after
         ORDER BY 1 LIMIT @limit`,
      )
      .pluck()
      .all({
        roots: JSON.stringify(scope.subtreeRoots),
        singles: JSON.stringify(scope.orgIds),
        after: afterId,
        at: position,
        limit,
      });
  }

  async userIdsAfter(
    grants: ReadonlyArray<{ orgId: string; roles: readonly Role[] }>,
    platformAdmins: boolean,
    position: number,
    afterId: string,
    limit: number,
  ): Promise<string[]> {
    return this.lists
      .get<string>(
        `SELECT m.user_id FROM json_each(@grants) g
           CROSS JOIN membership_versions m ON m.org_id = json_extract(g.value, '$.orgId') AND ${at('m')}
         WHERE m.pending = 0 AND m.user_id > @after
           AND EXISTS (SELECT 1 FROM json_each(m.roles) r, json_each(json_extract(g.value, '$.roles')) w
                       WHERE r.value = w.value)
           AND EXISTS (SELECT 1 FROM user_versions uv
                       WHERE uv.user_id = m.user_id AND ${at('uv')} AND uv.status = 'active')
         UNION
         SELECT uv.user_id FROM user_versions uv
         WHERE @admins = 1 AND uv.platform_admin = 1 AND uv.status = 'active'
           AND uv.user_id > @after AND ${at('uv')}
         ORDER BY 1 LIMIT @limit`,
      )
      .pluck()
      .all({ grants: JSON.stringify(grants), admins: platformAdmins ? 1 : 0, after: afterId, at: position, limit });
  }

  async clientsAfter(
    orgIds: readonly string[],
    scope: string,
    position: number,
    afterId: string,
    limit: number,
    roleGrants: ReadonlyArray<{ orgId: string; roles: readonly string[] }> = [],
  ): Promise<Array<{ id: string; clientId: string }>> {
    const rows = this.lists
      .get<{ id: string; client_id: string }>(
        `SELECT cl.id, cl.client_id FROM json_each(@orgs) o
           CROSS JOIN client_versions cl INDEXED BY client_versions_org ON cl.org_id = o.value AND ${at('cl')}
         WHERE cl.id > @after
           AND (EXISTS (SELECT 1 FROM json_each(cl.scopes) WHERE value = @scope)
             OR EXISTS (SELECT 1 FROM json_each(@grants) g, json_each(cl.roles) r,
                          json_each(json_extract(g.value, '$.roles')) w
                        WHERE json_extract(g.value, '$.orgId') = cl.org_id AND r.value = w.value))
         GROUP BY cl.id ORDER BY cl.id LIMIT @limit`,
      )
      .all({
        orgs: JSON.stringify([...new Set(orgIds)]),
        scope,
        grants: JSON.stringify(roleGrants),
        after: afterId,
        at: position,
        limit,
      });
    return rows.map((row) => ({ id: row.id, clientId: row.client_id }));
  }

  async permissionsOn(orgIds: readonly string[], position: number): Promise<ApplicationPermissionView[]> {
    if (orgIds.length === 0) return [];
    return this.permissionsAt.all({ ids: JSON.stringify([...new Set(orgIds)]), at: position }).map(toPermissionView);
  }
}
