import type {
  AccessQuestionFacts,
  AccessQuestionKey,
  MembershipQueries,
  OrgUserView,
  Page,
  PageRequest,
  UserMembershipView,
} from '@arbor/application';
import { normaliseRoles, type Role } from '@arbor/domain';
import type { Statement } from 'better-sqlite3';
import type { SqliteDatabase } from './open-sqlite-database';
import { afterId, emptyPage, hasNul, pageLimit, toPage, type IdKeyset } from './page-cursor';
import { containsPattern, parseRoles, type UserTuple } from './read-model-rows';
import { StatementCache } from './statement-cache';

/** Columns of `memberships m JOIN users u`, in `OrgUserTuple` order (rows read as arrays). */
const ORG_USER_COLUMNS =
  'm.org_id, m.user_id, u.email, u.name, u.status, m.roles, m.added_at, m.version, m.pending, u.version';

export type OrgUserTuple = [
  orgId: string,
  userId: string,
  email: string | null,
  name: string | null,
  status: UserTuple[3],
  roles: string,
  addedAt: string,
  version: number,
  pending: number,
  userVersion: number,
];

export const toOrgUserView = (row: OrgUserTuple): OrgUserView => ({
  orgId: row[0],
  userId: row[1],
  email: row[2],
  name: row[3],
  status: row[4],
  roles: parseRoles(row[5]),
  addedAt: row[6],
  version: row[7],
  pending: row[8] !== 0,
  userVersion: row[9],
});

/** Direct memberships up to which accessQuestions finds a user's inherited roles from the memberships side. */
const FEW_MEMBERSHIPS = 16;

/** Questions per accessQuestions statement (a batch's size in the AuthZEN API is at most 100). */
const MAX_BATCH = 100;

/** A row of accessQuestions: organization id and parent, user status and flag, the held roles. */
type QuestionTuple = [
  orgId: string | null,
  parentId: string | null,
  status: OrgUserView['status'] | null,
  platformAdmin: number | null,
  /**
   * JSON `[count, [roles, ...]]`: how many of the user's confirmed memberships the scan read (at most
   * FEW_MEMBERSHIPS + 1), and the role arrays of those at or above the organization.
   */
  held: string,
  /** The question's index in its batch (0 for one question). */
  index: number,
];

interface UserMembershipRow {
  org_id: string;
  org_name: string;
  roles: string;
  added_at: string;
  pending: number;
}

/**
 * effectiveRoles: the organization's ancestors (itself included) from org_closure_parents, each probed in the
 * covering `memberships_user` (user and organization both bound): one indexed lookup per level, no recursive walk,
 * however many memberships the user has.
 * CROSS JOIN keeps the closure outside: since `memberships_user` covers roles, the planner would otherwise start
 * from the user's memberships, all of them, which is what this statement exists to avoid (query-plans.int.spec.ts).
 * Binds `userId, orgId`.
 */
export const INHERITED_ROLES_SQL = `SELECT m.roles FROM org_closure c
  CROSS JOIN memberships m ON m.org_id = c.ancestor_id AND m.user_id = ? AND m.pending = 0
  WHERE c.descendant_id = ?`;

/**
 * The statement of accessQuestions over `from` (a row source with the question's user id, organization id and
 * index expressions): the organization and the user by primary key, and the user's inherited roles on the
 * organization (effectiveRoles's answer) in one row per question. A user's first FEW_MEMBERSHIPS + 1 confirmed
 * direct memberships are each probed in the closure's primary key (is it the organization or above it?), in one
 * scan that also counts them: `[count, [roles, ...]]`. A user with more (count over FEW_MEMBERSHIPS, where the
 * scan may have stopped short) is asked again from the organization's side (`inheritedRoles`: its ancestors, each
 * probed in the memberships key). On a deep tree (depth 10: 11 ancestors) a user with one membership costs 2
 * index searches instead of 11. Every search is on a covering index (read-models-schema.ts,
 * "access-question-indexes"), the first two named with INDEXED BY.
 */
const accessQuestionsSql = (from: string, userId: string, orgId: string, index: string): string =>
  `SELECT o.id, o.parent_id, u.status, u.platform_admin,
     (SELECT json_array(count(*), json_group_array(json(f.roles)) FILTER (WHERE EXISTS (
               SELECT 1 FROM org_closure c WHERE c.ancestor_id = f.org_id AND c.descendant_id = ${orgId})))
      FROM (SELECT m.org_id, m.roles FROM memberships m
            WHERE m.user_id = ${userId} AND m.pending = 0 LIMIT ${FEW_MEMBERSHIPS + 1}) f)
     ${index}
   FROM ${from} LEFT JOIN orgs o INDEXED BY orgs_access ON o.id = ${orgId}
     LEFT JOIN users u INDEXED BY users_access ON u.id = ${userId}`;

/**
 * accessQuestions for `n` questions bound as `userId, orgId` pairs: a VALUES list (with json_each and
 * json_extract, and a second scan to count the memberships, a batch of 20 cost 90 µs instead of 71:
 * `node bench/access-questions-micro.mjs`). Rows carry their question's index (last column) and are put in place
 * by it: an ORDER BY would cost a temporary b-tree.
 */
export const accessQuestionsBatchSql = (n: number): string =>
  accessQuestionsSql(
    `(VALUES ${Array.from({ length: n }, (_, i) => `(${i}, ?, ?)`).join(', ')}) q`,
    'q.column2',
    'q.column3',
    ', q.column1',
  );

/**
 * Membership queries. Joins with `orgs` drop memberships of organizations that no longer exist (the
 * projection deletes them too). Scopes (`withinSubtreesOf`) go through the closure: an organization is
 * inside a root's subtree when the closure links the root to it as an ancestor (itself included).
 */
export class SqliteMembershipQueries implements MembershipQueries {
  private readonly byKey: Statement<[string, string], OrgUserTuple>;
  private readonly byUser: Statement<[string], UserMembershipRow>;
  private readonly byUserWithPending: Statement<[string], UserMembershipRow>;
  private readonly byUserWithin: Statement<[string, string], UserMembershipRow>;
  private readonly inheritedRoles: Statement<[string, string], string>;
  private readonly roots: Statement<[string], { org_id: string; roles: string }>;
  private readonly lists: StatementCache;
  private readonly oneQuestion: Statement<[string | null, string], QuestionTuple>;
  /** Batch statements by their number of questions (`batchOf`). */
  private readonly batches: Array<Statement<Array<string | null>, QuestionTuple> | undefined> = [];

  constructor(private readonly db: SqliteDatabase) {
    this.byKey = db
      .prepare<[string, string], OrgUserTuple>(
        `SELECT ${ORG_USER_COLUMNS} FROM memberships m JOIN users u ON u.id = m.user_id
         WHERE m.org_id = ? AND m.user_id = ?`,
      )
      .raw(true);
    const byUserSql = (scope: string): string =>
      `SELECT m.org_id, o.name AS org_name, m.roles, m.added_at, m.pending
       FROM memberships m JOIN orgs o ON o.id = m.org_id
       WHERE m.user_id = ?${scope}
       ORDER BY m.org_id`;
    this.byUser = db.prepare(byUserSql(' AND m.pending = 0'));
    this.byUserWithPending = db.prepare(byUserSql(''));
    this.byUserWithin = db.prepare(
      byUserSql(` AND m.pending = 0 AND EXISTS (SELECT 1 FROM org_closure c
                  WHERE c.descendant_id = m.org_id AND c.ancestor_id IN (SELECT value FROM json_each(?)))`),
    );
    this.inheritedRoles = db.prepare<[string, string], string>(INHERITED_ROLES_SQL).pluck();
    this.roots = db.prepare(
      `SELECT m.org_id, m.roles FROM memberships m JOIN orgs o ON o.id = m.org_id
       WHERE m.user_id = ? AND m.pending = 0 ORDER BY m.org_id`,
    );
    this.lists = new StatementCache(db);
    this.oneQuestion = db
      .prepare<[string | null, string], QuestionTuple>(
        accessQuestionsSql('(SELECT ? AS user_id, ? AS org_id) q', 'q.user_id', 'q.org_id', ', 0'),
      )
      .raw(true);
  }

  /** The statement asking `n` (1..MAX_BATCH) questions, bound as `userId, orgId` pairs. */
  private batchOf(n: number): Statement<Array<string | null>, QuestionTuple> {
    let statement = this.batches[n];
    if (statement === undefined) {
      statement = this.db.prepare<Array<string | null>, QuestionTuple>(accessQuestionsBatchSql(n)).raw(true);
      this.batches[n] = statement;
    }
    return statement;
  }

  async get(
    orgId: string,
    userId: string,
    options: { includePending?: boolean } = {},
  ): Promise<OrgUserView | undefined> {
    const row = this.byKey.get(orgId, userId);
    return row === undefined || (row[8] !== 0 && !options.includePending) ? undefined : toOrgUserView(row);
  }

  /** One range scan of the memberships primary key (org_id, user_id), filters checked per row. */
  async listByOrg(
    orgId: string,
    filter: { role?: Role; q?: string; pending?: boolean },
    page: PageRequest,
  ): Promise<Page<OrgUserView>> {
    const after = afterId(page);
    const limit = pageLimit(page);
    const conditions: string[] = ['m.pending = ?'];
    const params: unknown[] = [filter.pending ? 1 : 0];
    if (filter.role !== undefined) {
      conditions.push('EXISTS (SELECT 1 FROM json_each(m.roles) WHERE value = ?)');
      params.push(filter.role);
    }
    if (filter.q !== undefined && hasNul(filter.q)) return emptyPage();
    if (filter.q !== undefined && filter.q !== '') {
      // Erased users have NULL keys, which match no LIKE.
      conditions.push(`(u.email_key LIKE ? ESCAPE '\\' OR u.name_key LIKE ? ESCAPE '\\')`);
      const pattern = containsPattern(filter.q);
      params.push(pattern, pattern);
    }
    const statement = this.lists.get<OrgUserTuple>(
      `SELECT ${ORG_USER_COLUMNS} FROM memberships m JOIN users u ON u.id = m.user_id
       WHERE m.org_id = ? AND m.user_id > ?${conditions.map((c) => ` AND ${c}`).join('')}
       ORDER BY m.user_id LIMIT ?`,
      true,
    );
    const rows = statement.all(orgId, after, ...params, limit + 1);
    return toPage(rows, limit, toOrgUserView, (row): IdKeyset => ({ i: row[1] }));
  }

  async listByUser(
    userId: string,
    filter: { withinSubtreesOf?: string[]; withinOrgs?: string[]; includePending?: boolean },
  ): Promise<UserMembershipView[]> {
    const scoped = filter.withinSubtreesOf !== undefined || filter.withinOrgs !== undefined;
    const scope = filter.withinSubtreesOf ?? [];
    const singles = new Set(filter.withinOrgs ?? []);
    if (scoped && scope.length === 0 && singles.size === 0) return [];
    let rows: UserMembershipRow[];
    if (!scoped) rows = filter.includePending ? this.byUserWithPending.all(userId) : this.byUser.all(userId);
    else {
      const within = scope.length === 0 ? [] : this.byUserWithin.all(userId, JSON.stringify(scope));
      // withinOrgs: the confirmed memberships on those organizations themselves (a user has few), in org_id order.
      if (singles.size === 0) rows = within;
      else {
        const kept = new Set(within.map((row) => row.org_id));
        rows = this.byUser.all(userId).filter((row) => kept.has(row.org_id) || singles.has(row.org_id));
      }
    }
    return rows.map((row) => ({
      orgId: row.org_id,
      orgName: row.org_name,
      roles: parseRoles(row.roles),
      addedAt: row.added_at,
      pending: row.pending !== 0,
    }));
  }

  /** Unknown organizations have no closure rows, hence no roles. */
  async effectiveRoles(userId: string, orgId: string): Promise<Role[]> {
    return parseRoles(...this.inheritedRoles.all(userId, orgId));
  }

  async membershipRoots(userId: string): Promise<Array<{ orgId: string; roles: Role[] }>> {
    return this.roots.all(userId).map((row) => ({ orgId: row.org_id, roles: parseRoles(row.roles) }));
  }

  async accessQuestions(pairs: ReadonlyArray<AccessQuestionKey>): Promise<AccessQuestionFacts[]> {
    if (pairs.length === 0) return [];
    const rows = new Array<QuestionTuple>(pairs.length);
    if (pairs.length === 1) rows[0] = this.oneQuestion.all(pairs[0].userId, pairs[0].orgId)[0];
    else {
      // Chunks of at most MAX_BATCH pairs: a bounded number of prepared statements, and far below SQLite's limit
      // on bound parameters. No await between chunks: they read one state of the read models.
      for (let from = 0; from < pairs.length; from += MAX_BATCH) {
        const chunk = pairs.slice(from, from + MAX_BATCH);
        const params: Array<string | null> = [];
        for (const p of chunk) params.push(p.userId, p.orgId);
        for (const row of this.batchOf(chunk.length).all(...params)) rows[from + row[5]] = row;
      }
    }
    return rows.map(([orgId, parentId, status, platformAdmin, held], i) => ({
      org: orgId === null ? undefined : { id: orgId, parentId },
      user: status === null ? undefined : { status, platformAdmin: platformAdmin === 1 },
      roles: normaliseRoles(this.heldRoles(held, pairs[i])),
    }));
  }

  /**
   * The role ids of a `[count, [roles, ...]]` column (see `accessQuestionsSql`); for a user with more than
   * FEW_MEMBERSHIPS confirmed memberships, read from the organization's side instead.
   */
  private heldRoles(column: string, pair: AccessQuestionKey): Role[] {
    const [count, lists] = JSON.parse(column) as [number, unknown[][]];
    if (count > FEW_MEMBERSHIPS && pair.userId !== null)
      return parseRoles(...this.inheritedRoles.all(pair.userId, pair.orgId));
    const held: Role[] = [];
    // A loop: `flat()` costs twice as much.
    for (const list of lists) for (const r of list) if (typeof r === 'string') held.push(r);
    return held;
  }
}
