import type {
  AccessQuestionFacts,
  AccessQuestionKey,
  MembershipQueries,
  OrgUserView,
  Page,
  PageRequest,
  UserMembershipView,
} from '@arbor/application';
import type { Role } from '@arbor/domain';
import type { Pool } from 'pg';
import { afterId, emptyPage, hasNul, isPgText, pageLimit, toPage, type IdKeyset } from './read-model-page-cursor';
import { containsPattern, parseRoles, type UserRow } from './read-model-rows';
import { SqlParams, type ReadModelSql } from './read-models-schema';

/** Columns of `memberships m JOIN users u` in the shape `toOrgUserView` expects. */
const ORG_USER_COLUMNS =
  'm.org_id, m.user_id, u.email, u.name, u.status, m.roles, m.added_at, m.version, m.pending, u.version AS user_version';

/**
 * The `role` and `q` filters of a member list (listByOrg, HistoryQueries.members) as conditions on memberships `m`
 * and users `u`, their values added to `p`; undefined when a filter holds U+0000 and so matches nothing.
 */
export function memberFilterConditions(p: SqlParams, filter: { role?: Role; q?: string }): string[] | undefined {
  const conditions: string[] = [];
  if (filter.role !== undefined) {
    if (hasNul(filter.role)) return undefined;
    // jsonb `?`: the array holds this string as an element.
    conditions.push(`m.roles ? ${p.add(filter.role)}::text`);
  }
  if (filter.q !== undefined && filter.q !== '') {
    if (hasNul(filter.q)) return undefined;
    // Erased users have NULL keys, which match no LIKE.
    const pattern = p.add(containsPattern(filter.q));
    conditions.push(`(u.email_key LIKE ${pattern} ESCAPE '\\' OR u.name_key LIKE ${pattern} ESCAPE '\\')`);
  }
  return conditions;
}

export interface OrgUserRow {
  org_id: string;
  user_id: string;
  email: string | null;
  name: string | null;
  status: UserRow['status'];
  /** jsonb array, parsed. */
  roles: unknown[];
  added_at: string;
  version: number;
  pending: boolean;
  user_version: number;
}

export const toOrgUserView = (row: OrgUserRow): OrgUserView => ({
  orgId: row.org_id,
  userId: row.user_id,
  email: row.email,
  name: row.name,
  status: row.status,
  roles: parseRoles(row.roles),
  addedAt: row.added_at,
  version: row.version,
  pending: row.pending,
  userVersion: row.user_version,
});

interface UserMembershipRow {
  org_id: string;
  org_name: string;
  roles: unknown[];
  added_at: string;
  pending: boolean;
}

/**
 * Membership queries. Joins with `orgs` drop memberships of organizations that no longer exist (the
 * projection deletes them too). Scopes (`withinSubtreesOf`) go through the closure: an organization is
 * inside a root's subtree when the closure links the root to it as an ancestor (itself included).
 */
/** A row of accessQuestions (NULL columns where the organization or the user is unknown). */
interface QuestionRow {
  id: string | null;
  parent_id: string | null;
  status: OrgUserView['status'] | null;
  platform_admin: boolean | null;
  roles: unknown[][];
}

export class PostgresMembershipQueries implements MembershipQueries {
  private readonly byKey: string;
  private readonly byUser: string;
  private readonly byUserWithPending: string;
  private readonly byUserWithin: string;
  private readonly inheritedRoles: string;
  private readonly roots: string;
  private readonly questions: string;

  constructor(
    private readonly pool: Pool,
    private readonly sql: ReadModelSql,
  ) {
    const memberships = sql.table('memberships');
    const users = sql.table('users');
    const orgs = sql.table('orgs');
    const closure = sql.table('org_closure');
    this.byKey = `
      SELECT ${ORG_USER_COLUMNS} FROM ${memberships} m JOIN ${users} u ON u.id = m.user_id
      WHERE m.org_id = $1 AND m.user_id = $2`;
    const byUserSql = (scope: string): string => `
      SELECT m.org_id, o.name AS org_name, m.roles, m.added_at, m.pending
      FROM ${memberships} m JOIN ${orgs} o ON o.id = m.org_id
      WHERE m.user_id = $1${scope}
      ORDER BY m.org_id`;
    this.byUser = byUserSql(' AND NOT m.pending');
    this.byUserWithPending = byUserSql('');
    this.byUserWithin = byUserSql(
      ` AND NOT m.pending AND EXISTS (SELECT 1 FROM ${closure} c WHERE c.descendant_id = m.org_id AND c.ancestor_id = ANY($2::text[]))`,
    );
    // The organization's ancestors (itself included) from org_closure_parents, each probed in the
    // memberships primary key: one indexed lookup per level, no recursive walk.
    this.inheritedRoles = `
      SELECT m.roles FROM ${closure} c
      JOIN ${memberships} m ON m.org_id = c.ancestor_id AND m.user_id = $1 AND NOT m.pending
      WHERE c.descendant_id = $2`;
    this.roots = `
      SELECT m.org_id, m.roles FROM ${memberships} m JOIN ${orgs} o ON o.id = m.org_id
      WHERE m.user_id = $1 AND NOT m.pending ORDER BY m.org_id`;
    // accessQuestions: per pair, the organization and the user by primary key and the inherited roles as
    // inheritedRoles reads them, in one statement over the pairs (unnest keeps their order in `i`).
    this.questions = `
      SELECT o.id, o.parent_id, u.status, u.platform_admin,
        (SELECT COALESCE(jsonb_agg(m.roles), '[]'::jsonb) FROM ${closure} c
         JOIN ${memberships} m ON m.org_id = c.ancestor_id AND m.user_id = q.user_id AND NOT m.pending
         WHERE c.descendant_id = q.org_id) AS roles
      FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS q(user_id, org_id, i)
      LEFT JOIN ${orgs} o ON o.id = q.org_id LEFT JOIN ${users} u ON u.id = q.user_id
      ORDER BY q.i`;
  }

  async get(
    orgId: string,
    userId: string,
    options: { includePending?: boolean } = {},
  ): Promise<OrgUserView | undefined> {
    if (hasNul(orgId) || hasNul(userId)) return undefined;
    const [row] = await this.sql.rows<OrgUserRow>(this.pool, this.byKey, [orgId, userId]);
    return row === undefined || (row.pending && !options.includePending) ? undefined : toOrgUserView(row);
  }

  /** One range scan of the memberships primary key (org_id, user_id), filters checked per row. */
  async listByOrg(
    orgId: string,
    filter: { role?: Role; q?: string; pending?: boolean },
    page: PageRequest,
  ): Promise<Page<OrgUserView>> {
    const after = afterId(page);
    const limit = pageLimit(page);
    if (hasNul(orgId)) return emptyPage();
    const p = new SqlParams();
    const conditions = [
      `m.org_id = ${p.add(orgId)}`,
      `m.user_id > ${p.add(after)}`,
      filter.pending ? 'm.pending' : 'NOT m.pending',
    ];
    const filters = memberFilterConditions(p, filter);
    if (filters === undefined) return emptyPage();
    conditions.push(...filters);
    const rows = await this.sql.rows<OrgUserRow>(
      this.pool,
      `SELECT ${ORG_USER_COLUMNS} FROM ${this.sql.table('memberships')} m JOIN ${this.sql.table('users')} u ON u.id = m.user_id
       WHERE ${conditions.join(' AND ')}
       ORDER BY m.user_id LIMIT ${p.add(limit + 1)}`,
      p.values,
    );
    return toPage(rows, limit, toOrgUserView, (row): IdKeyset => ({ i: row.user_id }));
  }

  async listByUser(
    userId: string,
    filter: { withinSubtreesOf?: string[]; withinOrgs?: string[]; includePending?: boolean },
  ): Promise<UserMembershipView[]> {
    const scoped = filter.withinSubtreesOf !== undefined || filter.withinOrgs !== undefined;
    const scope = filter.withinSubtreesOf ?? [];
    const singles = new Set(filter.withinOrgs ?? []);
    if ((scoped && scope.length === 0 && singles.size === 0) || hasNul(userId)) return [];
    let rows: UserMembershipRow[];
    if (!scoped)
      rows = await this.sql.rows<UserMembershipRow>(
        this.pool,
        filter.includePending ? this.byUserWithPending : this.byUser,
        [userId],
      );
    else {
      const within =
        scope.length === 0
          ? []
          : await this.sql.rows<UserMembershipRow>(this.pool, this.byUserWithin, [userId, scope.filter(isPgText)]);
      // withinOrgs: the confirmed memberships on those organizations themselves (a user has few), in org_id order.
      if (singles.size === 0) rows = within;
      else {
        const kept = new Set(within.map((row) => row.org_id));
        rows = (await this.sql.rows<UserMembershipRow>(this.pool, this.byUser, [userId])).filter(
          (row) => kept.has(row.org_id) || singles.has(row.org_id),
        );
      }
    }
    return rows.map((row) => ({
      orgId: row.org_id,
      orgName: row.org_name,
      roles: parseRoles(row.roles),
      addedAt: row.added_at,
      pending: row.pending,
    }));
  }

  /** Unknown organizations have no closure rows, hence no roles. */
  async effectiveRoles(userId: string, orgId: string): Promise<Role[]> {
    if (hasNul(userId) || hasNul(orgId)) return [];
    const rows = await this.sql.rows<{ roles: unknown[] }>(this.pool, this.inheritedRoles, [userId, orgId]);
    return parseRoles(...rows.map((row) => row.roles));
  }

  async membershipRoots(userId: string): Promise<Array<{ orgId: string; roles: Role[] }>> {
    if (hasNul(userId)) return [];
    const rows = await this.sql.rows<{ org_id: string; roles: unknown[] }>(this.pool, this.roots, [userId]);
    return rows.map((row) => ({ orgId: row.org_id, roles: parseRoles(row.roles) }));
  }

  async accessQuestions(pairs: ReadonlyArray<AccessQuestionKey>): Promise<AccessQuestionFacts[]> {
    if (pairs.length === 0) return [];
    // An id PostgreSQL cannot take as text names nothing: NULL matches no row.
    const text = (id: string | null) => (id === null || hasNul(id) ? null : id);
    const rows = await this.sql.rows<QuestionRow>(this.pool, this.questions, [
      pairs.map((p) => text(p.userId)),
      pairs.map((p) => text(p.orgId)),
    ]);
    return rows.map((row) => ({
      org: row.id === null ? undefined : { id: row.id, parentId: row.parent_id },
      user: row.status === null ? undefined : { status: row.status, platformAdmin: row.platform_admin === true },
      roles: parseRoles(...row.roles),
    }));
  }
}
