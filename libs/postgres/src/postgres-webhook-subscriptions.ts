import type { Page, PageRequest, WebhookReadQueries, WebhookSubscriptionView } from '@arbor/application';
import type { Pool, PoolClient } from 'pg';
import { afterId, hasNul, pageLimit, toPage, type IdKeyset } from './read-model-page-cursor';
import type { ReadModelSql } from './read-models-schema';

const COLUMNS =
  'id, org_id, url, event_types, description, enabled, disabled_reason, created_position, replay_from, replay_requested_at, created_at, updated_at, version';

/** As node-postgres hands a row over: jsonb parsed, BIGINT as a decimal string. */
interface WebhookRow {
  id: string;
  org_id: string;
  url: string;
  event_types: string[];
  description: string;
  enabled: boolean;
  disabled_reason: string | null;
  created_position: string;
  replay_from: string | null;
  replay_requested_at: string | null;
  created_at: string;
  updated_at: string;
  version: number;
}

const toView = (row: WebhookRow): WebhookSubscriptionView => ({
  subscriptionId: row.id,
  orgId: row.org_id,
  url: row.url,
  eventTypes: row.event_types,
  description: row.description,
  enabled: row.enabled,
  disabledReason: row.disabled_reason,
  createdPosition: Number(row.created_position),
  replay:
    row.replay_from === null || row.replay_requested_at === null
      ? null
      : { fromPosition: Number(row.replay_from), requestedPosition: Number(row.replay_requested_at) },
  createdAt: row.created_at,
  updatedAt: row.updated_at,
  version: row.version,
});

/** The SQL of the webhook subscriptions' reads and of the projection's primitives. */
export function webhookStatements(sql: ReadModelSql) {
  const table = sql.table('webhook_subscriptions');
  return {
    byId: `SELECT ${COLUMNS} FROM ${table} WHERE id = $1`,
    all: `SELECT ${COLUMNS} FROM ${table} ORDER BY id`,
    ofOrg: `SELECT ${COLUMNS} FROM ${table} WHERE org_id = $1 AND id > $2 ORDER BY id LIMIT $3`,
    put: `
      INSERT INTO ${table} (${COLUMNS}) VALUES ($1, $2, $3, $4::jsonb, $5, $6, $7, $8, $9, $10, $11, $12, $13)
      ON CONFLICT (id) DO UPDATE SET org_id = excluded.org_id, url = excluded.url, event_types = excluded.event_types,
        description = excluded.description, enabled = excluded.enabled, disabled_reason = excluded.disabled_reason,
        created_position = excluded.created_position, replay_from = excluded.replay_from,
        replay_requested_at = excluded.replay_requested_at, created_at = excluded.created_at,
        updated_at = excluded.updated_at, version = excluded.version`,
    delete: `DELETE FROM ${table} WHERE id = $1`,
  };
}

/** Webhook subscriptions in the PostgreSQL read models (issue 14 item 6); their secrets are only the vault's. */
export class PostgresWebhookQueries implements WebhookReadQueries {
  private readonly s: ReturnType<typeof webhookStatements>;

  constructor(
    private readonly pool: Pool,
    private readonly sql: ReadModelSql,
  ) {
    this.s = webhookStatements(sql);
  }

  async get(subscriptionId: string): Promise<WebhookSubscriptionView | undefined> {
    return webhookRow(this.sql, this.pool, subscriptionId);
  }

  async listAll(): Promise<WebhookSubscriptionView[]> {
    return (await this.sql.rows<WebhookRow>(this.pool, this.s.all, [])).map(toView);
  }

  async listByOrg(orgId: string, page: PageRequest): Promise<Page<WebhookSubscriptionView>> {
    if (hasNul(orgId)) return { items: [], nextCursor: null };
    const limit = pageLimit(page);
    const rows = await this.sql.rows<WebhookRow>(this.pool, this.s.ofOrg, [orgId, afterId(page), limit + 1]);
    return toPage(rows, limit, toView, (row): IdKeyset => ({ i: row.id }));
  }
}

/** One subscription's row, on the pool or a transaction's client. */
export async function webhookRow(
  sql: ReadModelSql,
  db: Pool | PoolClient,
  subscriptionId: string,
): Promise<WebhookSubscriptionView | undefined> {
  if (hasNul(subscriptionId)) return undefined;
  const [row] = await sql.rows<WebhookRow>(db, webhookStatements(sql).byId, [subscriptionId]);
  return row === undefined ? undefined : toView(row);
}

/** The values of `put`, in its parameter order. */
export const webhookValues = (w: WebhookSubscriptionView): unknown[] => [
  w.subscriptionId,
  w.orgId,
  w.url,
  JSON.stringify(w.eventTypes),
  w.description,
  w.enabled,
  w.disabledReason,
  w.createdPosition,
  w.replay?.fromPosition ?? null,
  w.replay?.requestedPosition ?? null,
  w.createdAt,
  w.updatedAt,
  w.version,
];
