import type { ClientQueries, ClientView, Page, PageRequest } from '@arbor/application';
import type { Statement } from 'better-sqlite3';
import type { SqliteDatabase } from './open-sqlite-database';
import { afterId, pageLimit, toPage, type IdKeyset } from './page-cursor';
import { StatementCache } from './statement-cache';

/** Columns of `clients cl`, in `ClientTuple` order (rows read as arrays, as `ORG_COLUMNS`). */
export const CLIENT_COLUMNS =
  'cl.id, cl.client_id, cl.name, cl.org_id, cl.scopes, cl.created_at, cl.version, cl.roles, cl.roles_granted_by_event_id, cl.roles_granted_by_position';

export type ClientTuple = [
  id: string,
  clientId: string,
  name: string,
  orgId: string,
  scopes: string,
  createdAt: string,
  version: number,
  roles: string,
  rolesGrantedByEventId: string | null,
  rolesGrantedByPosition: number | null,
];

export const toClientView = (row: ClientTuple): ClientView => ({
  id: row[0],
  clientId: row[1],
  name: row[2],
  orgId: row[3],
  scopes: JSON.parse(row[4]) as string[],
  createdAt: row[5],
  version: row[6],
  roles: JSON.parse(row[7]) as string[],
  rolesGrantedBy: row[8] === null || row[9] === null ? null : { eventId: row[8], position: row[9] },
});

/** Client credentials (never their secrets, which only the vault holds). */
export class SqliteClientQueries implements ClientQueries {
  private readonly byId: Statement<[string], ClientTuple>;
  private readonly byClientId: Statement<[string], ClientTuple>;
  private readonly lists: StatementCache;

  constructor(db: SqliteDatabase) {
    this.byId = db.prepare<[string], ClientTuple>(`SELECT ${CLIENT_COLUMNS} FROM clients cl WHERE cl.id = ?`).raw(true);
    this.byClientId = db
      .prepare<[string], ClientTuple>(`SELECT ${CLIENT_COLUMNS} FROM clients cl WHERE cl.client_id = ?`)
      .raw(true);
    this.lists = new StatementCache(db);
  }

  async get(id: string): Promise<ClientView | undefined> {
    const row = this.byId.get(id);
    return row === undefined ? undefined : toClientView(row);
  }

  async getByClientId(clientId: string): Promise<ClientView | undefined> {
    const row = this.byClientId.get(clientId);
    return row === undefined ? undefined : toClientView(row);
  }

  /**
   * Clients in id order: by `clients_org` when `orgId` is given, else by the primary key; the scope is
   * checked per row through the closure (the client's organization has one of the roots as an ancestor, or
   * is one of the single organizations of `withinOrgs`).
   */
  async list(
    filter: { orgId?: string; withinSubtreesOf?: string[]; withinOrgs?: string[] },
    page: PageRequest,
  ): Promise<Page<ClientView>> {
    const after = afterId(page);
    const limit = pageLimit(page);
    const scoped = filter.withinSubtreesOf !== undefined || filter.withinOrgs !== undefined;
    const roots = filter.withinSubtreesOf ?? [];
    const singles = filter.withinOrgs ?? [];
    if (scoped && roots.length === 0 && singles.length === 0) return { items: [], nextCursor: null };
    const conditions: string[] = [];
    const params: unknown[] = [];
    if (filter.orgId !== undefined) {
      conditions.push('cl.org_id = ?');
      params.push(filter.orgId);
    }
    if (scoped) {
      conditions.push(
        `(EXISTS (SELECT 1 FROM org_closure c
                  WHERE c.descendant_id = cl.org_id AND c.ancestor_id IN (SELECT value FROM json_each(?)))
          OR cl.org_id IN (SELECT value FROM json_each(?)))`,
      );
      params.push(JSON.stringify(roots), JSON.stringify(singles));
    }
    const statement = this.lists.get<ClientTuple>(
      `SELECT ${CLIENT_COLUMNS} FROM clients cl
       WHERE cl.id > ?${conditions.map((c) => ` AND ${c}`).join('')}
       ORDER BY cl.id LIMIT ?`,
      true,
    );
    return toPage(statement.all(after, ...params, limit + 1), limit, toClientView, (row): IdKeyset => ({ i: row[0] }));
  }
}
