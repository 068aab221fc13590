import {
  accountForEmail,
  type Page,
  type PageRequest,
  type UserListFilter,
  type UserQueries,
  type UserView,
} from '@arbor/application';
import type { Pool } from 'pg';
import { afterId, emptyPage, hasNul, isPgText, pageLimit, toPage, type IdKeyset } from './read-model-page-cursor';
import { containsPattern, emailKey, toUserView, USER_COLUMNS, type UserRow } from './read-model-rows';
import { SqlParams, type ReadModelSql } from './read-models-schema';

export class PostgresUserQueries implements UserQueries {
  private readonly byId: string;
  private readonly byEmailKey: string;

  constructor(
    private readonly pool: Pool,
    private readonly sql: ReadModelSql,
  ) {
    const users = sql.table('users');
    this.byId = `SELECT ${USER_COLUMNS} FROM ${users} u WHERE u.id = $1`;
    // email_key is not UNIQUE (see the schema): old logs may hold a few accounts under one key (accountForEmail).
    this.byEmailKey = `SELECT ${USER_COLUMNS} FROM ${users} u WHERE u.email_key = $1 ORDER BY u.id LIMIT 16`;
  }

  async get(id: string): Promise<UserView | undefined> {
    if (hasNul(id)) return undefined;
    const [row] = await this.sql.rows<UserRow>(this.pool, this.byId, [id]);
    return row === undefined ? undefined : toUserView(row);
  }

  async findByEmail(email: string): Promise<UserView | undefined> {
    if (hasNul(email)) return undefined;
    // Old logs may hold several accounts under one key: see accountForEmail.
    const rows = await this.sql.rows<UserRow>(this.pool, this.byEmailKey, [emailKey(email)]);
    return accountForEmail(rows.map(toUserView), email);
  }

  /**
   * Users in id order, one scan of the primary key with the filters checked per row. Erased users have NULL
   * keys, and NULL matches no LIKE and no `=`, so `q` and `email` skip them. Scope: a confirmed membership in
   * an organization whose closure has one of the roots as an ancestor, or in one of `withinOrgs`.
   */
  async list(filter: UserListFilter, page: PageRequest): Promise<Page<UserView>> {
    const after = afterId(page);
    const limit = pageLimit(page);
    const scoped = filter.withinSubtreesOf !== undefined || filter.withinOrgs !== undefined;
    const roots = (filter.withinSubtreesOf ?? []).filter(isPgText);
    const singles = (filter.withinOrgs ?? []).filter(isPgText);
    if (scoped && roots.length === 0 && singles.length === 0) return emptyPage();
    const p = new SqlParams();
    const conditions = [`u.id > ${p.add(after)}`];
    if (filter.q !== undefined && filter.q !== '') {
      if (hasNul(filter.q)) return emptyPage();
      const pattern = p.add(containsPattern(filter.q));
      conditions.push(`(u.email_key LIKE ${pattern} ESCAPE '\\' OR u.name_key LIKE ${pattern} ESCAPE '\\')`);
    }
    if (filter.email !== undefined) {
      if (hasNul(filter.email)) return emptyPage();
      conditions.push(`u.email_key = ${p.add(emailKey(filter.email))}`);
    }
    if (scoped) {
      conditions.push(
        `(EXISTS (SELECT 1 FROM ${this.sql.table('memberships')} m JOIN ${this.sql.table('org_closure')} c
                    ON c.descendant_id = m.org_id
                  WHERE m.user_id = u.id AND NOT m.pending AND c.ancestor_id = ANY(${p.add(roots)}::text[]))
          OR EXISTS (SELECT 1 FROM ${this.sql.table('memberships')} m
                     WHERE m.user_id = u.id AND NOT m.pending AND m.org_id = ANY(${p.add(singles)}::text[])))`,
      );
    }
    const rows = await this.sql.rows<UserRow>(
      this.pool,
      `SELECT ${USER_COLUMNS} FROM ${this.sql.table('users')} u
       WHERE ${conditions.join(' AND ')}
       ORDER BY u.id LIMIT ${p.add(limit + 1)}`,
      p.values,
    );
    return toPage(rows, limit, toUserView, (row): IdKeyset => ({ i: row.id }));
  }
}
