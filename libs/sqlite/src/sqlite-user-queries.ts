import {
  accountForEmail,
  type Page,
  type PageRequest,
  type UserListFilter,
  type UserQueries,
  type UserView,
} from '@arbor/application';
import type { Statement } from 'better-sqlite3';
import type { SqliteDatabase } from './open-sqlite-database';
import { afterId, emptyPage, hasNul, pageLimit, toPage, type IdKeyset } from './page-cursor';
import { containsPattern, emailKey, toUserView, USER_COLUMNS, type UserTuple } from './read-model-rows';
import { StatementCache } from './statement-cache';

export class SqliteUserQueries implements UserQueries {
  private readonly byId: Statement<[string], UserTuple>;
  private readonly byEmailKey: Statement<[string], UserTuple>;
  private readonly lists: StatementCache;

  constructor(db: SqliteDatabase) {
    this.byId = db.prepare<[string], UserTuple>(`SELECT ${USER_COLUMNS} FROM users u WHERE u.id = ?`).raw(true);
    // email_key is not UNIQUE (see the schema): old logs may hold a few accounts under one key (accountForEmail).
    this.byEmailKey = db
      .prepare<[string], UserTuple>(`SELECT ${USER_COLUMNS} FROM users u WHERE u.email_key = ? ORDER BY u.id LIMIT 16`)
      .raw(true);
    this.lists = new StatementCache(db);
  }

  async get(id: string): Promise<UserView | undefined> {
    const row = this.byId.get(id);
    return row === undefined ? undefined : toUserView(row);
  }

  async findByEmail(email: string): Promise<UserView | undefined> {
    // Old logs may hold several accounts under one key: see accountForEmail.
    return accountForEmail(this.byEmailKey.all(emailKey(email)).map(toUserView), email);
  }

  /**
   * Users in id order, one scan of the primary key with the filters checked per row (8 statements at
   * most). Erased users have NULL keys, and NULL matches no LIKE and no `=`, so `q` and `email` skip them.
   * Scope: a confirmed membership in an organization whose closure has one of the roots as an ancestor, or
   * in one of the single organizations of `withinOrgs`.
   */
  async list(filter: UserListFilter, page: PageRequest): Promise<Page<UserView>> {
    const after = afterId(page);
    const limit = pageLimit(page);
    const scoped = filter.withinSubtreesOf !== undefined || filter.withinOrgs !== undefined;
    const roots = filter.withinSubtreesOf ?? [];
    const singles = filter.withinOrgs ?? [];
    if (scoped && roots.length === 0 && singles.length === 0) return { items: [], nextCursor: null };
    const conditions: string[] = [];
    const params: unknown[] = [];
    if (filter.q !== undefined && hasNul(filter.q)) return emptyPage();
    if (filter.q !== undefined && filter.q !== '') {
      conditions.push(`(u.email_key LIKE ? ESCAPE '\\' OR u.name_key LIKE ? ESCAPE '\\')`);
      const pattern = containsPattern(filter.q);
      params.push(pattern, pattern);
    }
    if (filter.email !== undefined) {
      conditions.push('u.email_key = ?');
      params.push(emailKey(filter.email));
    }
    if (scoped) {
      conditions.push(
        `(EXISTS (SELECT 1 FROM memberships m JOIN org_closure c ON c.descendant_id = m.org_id
                  WHERE m.user_id = u.id AND m.pending = 0 AND c.ancestor_id IN (SELECT value FROM json_each(?)))
          OR EXISTS (SELECT 1 FROM memberships m
                     WHERE m.user_id = u.id AND m.pending = 0 AND m.org_id IN (SELECT value FROM json_each(?))))`,
      );
      params.push(JSON.stringify(roots), JSON.stringify(singles));
    }
    const statement = this.lists.get<UserTuple>(
      `SELECT ${USER_COLUMNS} FROM users u
       WHERE u.id > ?${conditions.map((c) => ` AND ${c}`).join('')}
       ORDER BY u.id LIMIT ?`,
      true,
    );
    return toPage(statement.all(after, ...params, limit + 1), limit, toUserView, (row): IdKeyset => ({ i: row[0] }));
  }
}
