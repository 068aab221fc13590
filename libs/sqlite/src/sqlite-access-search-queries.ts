import type { AccessSearchQueries } from '@arbor/application';
import type { Role } from '@arbor/domain';
import type { Statement } from 'better-sqlite3';
import type { SqliteDatabase } from './open-sqlite-database';

/**
 * The access searches over SQLite (see AccessSearchQueries). Each root or grant is one range scan of a
 * primary key or index that starts after the keyset and stops after `limit` matching rows; the ranges are
 * merged here (sorted, deduplicated, cut to `limit`). So a page costs about `limit` rows per root, however
 * deep into the result it lies, and nothing is materialised beyond the page.
 */
export class SqliteAccessSearchQueries implements AccessSearchQueries {
  private readonly allOrgs: Statement<[string, number], string>;
  private readonly subtree: Statement<[string, string, number], string>;
  private readonly orgExists: Statement<[string], string>;
  private readonly membersWith: Statement<[string, string, string, number], string>;
  private readonly platformAdmins: Statement<[string, number], string>;
  private readonly clientsWith: Statement<[string, string, string, number], { id: string; client_id: string }>;

  constructor(db: SqliteDatabase) {
    this.allOrgs = db.prepare<[string, number], string>('SELECT id FROM orgs WHERE id > ? ORDER BY id LIMIT ?').pluck();
    // The closure's primary key (ancestor_id, descendant_id): the subtree of one root in id order.
    this.subtree = db
      .prepare<[string, string, number], string>(
        `SELECT descendant_id FROM org_closure WHERE ancestor_id = ? AND descendant_id > ?
         ORDER BY descendant_id LIMIT ?`,
      )
      .pluck();
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
    // The partial index users_platform_admin: the few platform admins, in id order.
    this.platformAdmins = db
      .prepare<[string, number], string>(
        `SELECT id FROM users WHERE platform_admin = 1 AND id > ? AND status = 'active' ORDER BY id LIMIT ?`,
      )
      .pluck();
    this.clientsWith = db.prepare(
      `SELECT id, client_id FROM clients
       WHERE org_id IN (SELECT value FROM json_each(?)) AND id > ?
         AND EXISTS (SELECT 1 FROM json_each(scopes) s WHERE s.value = ?)
       ORDER BY id LIMIT ?`,
    );
  }

  async orgIdsAfter(
    scope: { subtreeRoots: readonly string[]; orgIds: readonly string[] } | 'all',
    afterId: string,
    limit: number,
  ): Promise<string[]> {
    if (scope === 'all') return this.allOrgs.all(afterId, limit);
    const ranges = scope.subtreeRoots.map((root) => this.subtree.all(root, afterId, limit));
    ranges.push(scope.orgIds.filter((id) => id > afterId && this.orgExists.get(id) !== undefined));
    return mergeRanges(ranges, limit);
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

  async clientsAfter(
    orgIds: readonly string[],
    scope: string,
    afterId: string,
    limit: number,
  ): Promise<Array<{ id: string; clientId: string }>> {
    return this.clientsWith
      .all(JSON.stringify(orgIds), afterId, scope, limit)
      .map((row) => ({ id: row.id, clientId: row.client_id }));
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
