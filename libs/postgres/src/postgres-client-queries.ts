import type { ClientQueries, ClientView, Page, PageRequest } from '@arbor/application';
import type { Pool } from 'pg';
import { afterId, emptyPage, hasNul, isPgText, pageLimit, toPage, type IdKeyset } from './read-model-page-cursor';
import { SqlParams, type ReadModelSql } from './read-models-schema';

export const CLIENT_COLUMNS =
  'cl.id, cl.client_id, cl.name, cl.org_id, cl.scopes, cl.created_at, cl.version, cl.roles, cl.roles_granted_by_event_id, cl.roles_granted_by_position';

export interface ClientRow {
  id: string;
  client_id: string;
  name: string;
  org_id: string;
  /** jsonb: node-postgres hands it over parsed. */
  scopes: string[];
  created_at: string;
  version: number;
  /** jsonb, parsed. */
  roles: string[];
  roles_granted_by_event_id: string | null;
  /** BIGINT: node-postgres hands it over as a decimal string. */
  roles_granted_by_position: string | null;
}

export const toClientView = (row: ClientRow): ClientView => ({
  id: row.id,
  clientId: row.client_id,
  name: row.name,
  orgId: row.org_id,
  scopes: row.scopes,
  createdAt: row.created_at,
  version: row.version,
  roles: row.roles,
  rolesGrantedBy:
    row.roles_granted_by_event_id === null || row.roles_granted_by_position === null
      ? null
      : { eventId: row.roles_granted_by_event_id, position: Number(row.roles_granted_by_position) },
});

/** Client credentials (never their secrets, which only the vault holds). */
export class PostgresClientQueries implements ClientQueries {
  private readonly byId: string;
  private readonly byClientId: string;

  constructor(
    private readonly pool: Pool,
    private readonly sql: ReadModelSql,
  ) {
    const clients = sql.table('clients');
    this.byId = `SELECT ${CLIENT_COLUMNS} FROM ${clients} cl WHERE cl.id = $1`;
    this.byClientId = `SELECT ${CLIENT_COLUMNS} FROM ${clients} cl WHERE cl.client_id = $1`;
  }

  async get(id: string): Promise<ClientView | undefined> {
    if (hasNul(id)) return undefined;
    const [row] = await this.sql.rows<ClientRow>(this.pool, this.byId, [id]);
    return row === undefined ? undefined : toClientView(row);
  }

  async getByClientId(clientId: string): Promise<ClientView | undefined> {
    if (hasNul(clientId)) return undefined;
    const [row] = await this.sql.rows<ClientRow>(this.pool, this.byClientId, [clientId]);
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
    const roots = (filter.withinSubtreesOf ?? []).filter(isPgText);
    const singles = (filter.withinOrgs ?? []).filter(isPgText);
    if (scoped && roots.length === 0 && singles.length === 0) return emptyPage();
    const p = new SqlParams();
    const conditions = [`cl.id > ${p.add(after)}`];
    if (filter.orgId !== undefined) {
      if (hasNul(filter.orgId)) return emptyPage();
      conditions.push(`cl.org_id = ${p.add(filter.orgId)}`);
    }
    if (scoped) {
      conditions.push(
        `(EXISTS (SELECT 1 FROM ${this.sql.table('org_closure')} c
                  WHERE c.descendant_id = cl.org_id AND c.ancestor_id = ANY(${p.add(roots)}::text[]))
          OR cl.org_id = ANY(${p.add(singles)}::text[]))`,
      );
    }
    const rows = await this.sql.rows<ClientRow>(
      this.pool,
      `SELECT ${CLIENT_COLUMNS} FROM ${this.sql.table('clients')} cl
       WHERE ${conditions.join(' AND ')}
       ORDER BY cl.id LIMIT ${p.add(limit + 1)}`,
      p.values,
    );
    return toPage(rows, limit, toClientView, (row): IdKeyset => ({ i: row.id }));
  }
}
