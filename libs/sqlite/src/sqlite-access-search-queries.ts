import type { AccessSearchQueries } from '@arbor/application';
import type { Role } from '@arbor/domain';
import type { Statement } from 'better-sqlite3';
import type { SqliteDatabase } from './open-sqlite-database';
import { StatementCache } from './statement-cache';

/**
 * The platform admins after a keyset, in id order: the partial index `users_platform_admin` holds only them. Named
 * with INDEXED BY: without statistics the planner prefers scanning the covering `users_access` from the keyset on,
 * which reads every user (search/subject fell from ~2,600 to ~420 pages a second at the bench's 100k users).
 */
export const PLATFORM_ADMINS_SQL = `SELECT id FROM users INDEXED BY users_platform_admin
  WHERE platform_admin = 1 AND id > ? AND status = 'active' ORDER BY id LIMIT ?`;

/** Arms per compound SELECT: well under SQLite's SQLITE_MAX_COMPOUND_SELECT (500). */
const MAX_ARMS = 200;

/**
 * The access searches over SQLite (see AccessSearchQueries). Each root or grant is one range scan of a
 * primary key or index that starts after the keyset; subtrees are merged by SQLite as they stream (see
 * `mergedSubtrees`), the few other ranges here (sorted, deduplicated, cut to `limit`). So a page costs about
 * `limit` rows, however deep into the result it lies, and nothing is materialised beyond the page.
 */
export class SqliteAccessSearchQueries implements AccessSearchQueries {
  private readonly allOrgs: Statement<[string, number], string>;
  private readonly compound: StatementCache;
  private readonly orgExists: Statement<[string], string>;
  private readonly membersWith: Statement<[string, string, string, number], string>;
  private readonly platformAdmins: Statement<[string, number], string>;
  private readonly clientsWith: Statement<[string, string, string, number], { id: string; client_id: string }>;
  private readonly clientsHolding: Statement<[string, string, string, number], { id: string; client_id: string }>;

  constructor(db: SqliteDatabase) {
    this.allOrgs = db.prepare<[string, number], string>('SELECT id FROM orgs WHERE id > ? ORDER BY id LIMIT ?').pluck();
    this.compound = new StatementCache(db);
    this.orgExists = db.prepare<[string], string>('SELECT id FROM orgs WHERE id = ?').pluck();
    // The memberships primary key (org_id, user_id) from the keyset on; roles and status checked per row.
    this.membersWith = db
      .prepare<[string, string, string, number], string>(
        `SELECT m.user_id FROM memberships m JOIN users u ON u.id = m.user_id
         WHERE m.org_id = ? AND m.user_id > ? AND m.pending = 0 AND u.status = 'active'
           AND EXISTS (SELECT 1 FROM json_each(m.roles) r WHERE r.value IN (SELECT value FROM json_each(?)))
         ORDER BY m.user_id LIMIT ?`,
      )
      .pluck();
    this.platformAdmins = db.prepare<[string, number], string>(PLATFORM_ADMINS_SQL).pluck();
    this.clientsWith = db.prepare(
      `SELECT id, client_id FROM clients
       WHERE org_id IN (SELECT value FROM json_each(?)) AND id > ?
         AND EXISTS (SELECT 1 FROM json_each(scopes) s WHERE s.value = ?)
       ORDER BY id LIMIT ?`,
    );
    // The index clients_org (org_id, id) from the keyset on; the roles checked per row.
    this.clientsHolding = db.prepare(
      `SELECT id, client_id FROM clients
       WHERE org_id = ? AND id > ?
         AND EXISTS (SELECT 1 FROM json_each(roles) r WHERE r.value IN (SELECT value FROM json_each(?)))
       ORDER BY id LIMIT ?`,
    );
  }

  async orgIdsAfter(
    scope: { subtreeRoots: readonly string[]; orgIds: readonly string[] } | 'all',
    afterId: string,
    limit: number,
  ): Promise<string[]> {
    if (scope === 'all') return this.allOrgs.all(afterId, limit);
    const ranges: string[][] = [];
    for (let i = 0; i < scope.subtreeRoots.length; i += MAX_ARMS)
      ranges.push(this.mergedSubtrees(scope.subtreeRoots.slice(i, i + MAX_ARMS), afterId, limit));
    ranges.push(scope.orgIds.filter((id) => id > afterId && this.orgExists.get(id) !== undefined));
    return ranges.length === 1 ? ranges[0] : mergeRanges(ranges, limit);
  }

  /**
   * One compound SELECT, one arm per root, each a range of the closure's primary key from the keyset on:
   * SQLite runs `UNION ... ORDER BY ... LIMIT` as a streaming merge of the arms (MERGE (UNION), no sort, no
   * temporary table), so it reads about `limit` rows in all, plus one per root, and stops.
   */
  private mergedSubtrees(roots: readonly string[], afterId: string, limit: number): string[] {
    const arm = 'SELECT descendant_id FROM org_closure WHERE ancestor_id = ? AND descendant_id > ?';
    const sql = `${Array.from(roots, () => arm).join(' UNION ')} ORDER BY 1 LIMIT ?`;
    const params: unknown[] = [];
    for (const root of roots) params.push(root, afterId);
    return this.compound
      .get<string>(sql)
      .pluck()
      .all(...params, limit);
  }

  async userIdsAfter(
    grants: ReadonlyArray<{ orgId: string; roles: readonly Role[] }>,
    platformAdmins: boolean,
    afterId: string,
    limit: number,
  ): Promise<string[]> {
    const ranges = grants
      .filter((g) => g.roles.length > 0)
      .map((g) => this.membersWith.all(g.orgId, afterId, JSON.stringify(g.roles), limit));
    if (platformAdmins) ranges.push(this.platformAdmins.all(afterId, limit));
    return mergeRanges(ranges, limit);
  }

  /** The scope's clients, and one range of `clients_org` per role grant, merged by id. */
  async clientsAfter(
    orgIds: readonly string[],
    scope: string,
    afterId: string,
    limit: number,
    roleGrants: ReadonlyArray<{ orgId: string; roles: readonly string[] }> = [],
  ): Promise<Array<{ id: string; clientId: string }>> {
    const clientIds = new Map<string, string>();
    const ranges: string[][] = [];
    const collect = (rows: Array<{ id: string; client_id: string }>) => {
      for (const row of rows) clientIds.set(row.id, row.client_id);
      ranges.push(rows.map((row) => row.id));
    };
    collect(this.clientsWith.all(JSON.stringify(orgIds), afterId, scope, limit));
    for (const g of roleGrants)
      if (g.roles.length > 0) collect(this.clientsHolding.all(g.orgId, afterId, JSON.stringify(g.roles), limit));
    return mergeRanges(ranges, limit).map((id) => ({ id, clientId: clientIds.get(id)! }));
  }
}

/** The first `limit` distinct ids of sorted ranges, in code-unit order (SQLite's BINARY collation on ASCII ids). */
export function mergeRanges(ranges: readonly string[][], limit: number): string[] {
  const all = ranges.flat().sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const out: string[] = [];
  for (const id of all) {
    if (out.length === limit) break;
    if (out[out.length - 1] !== id) out.push(id);
  }
  return out;
}
