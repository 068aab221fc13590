import type { Page, PageRequest, WebhookReadQueries, WebhookSubscriptionView } from '@arbor/application';
import type { Statement } from 'better-sqlite3';
import type { SqliteDatabase } from './open-sqlite-database';
import { afterId, pageLimit, toPage, type IdKeyset } from './page-cursor';

/** Columns of `webhook_subscriptions`, in `WebhookTuple` order. */
const COLUMNS =
  'id, org_id, url, event_types, description, enabled, disabled_reason, created_position, replay_from, replay_requested_at, created_at, updated_at, version';

type WebhookTuple = [
  id: string,
  orgId: string,
  url: string,
  eventTypes: string,
  description: string,
  enabled: number,
  disabledReason: string | null,
  createdPosition: number,
  replayFrom: number | null,
  replayRequestedAt: number | null,
  createdAt: string,
  updatedAt: string,
  version: number,
];

const toView = (row: WebhookTuple): WebhookSubscriptionView => ({
  subscriptionId: row[0],
  orgId: row[1],
  url: row[2],
  eventTypes: JSON.parse(row[3]) as string[],
  description: row[4],
  enabled: row[5] === 1,
  disabledReason: row[6],
  createdPosition: row[7],
  replay: row[8] === null || row[9] === null ? null : { fromPosition: row[8], requestedPosition: row[9] },
  createdAt: row[10],
  updatedAt: row[11],
  version: row[12],
});

/** Webhook subscriptions in the SQLite read models (issue 14 item 6); their secrets are only the vault's. */
export class SqliteWebhookQueries implements WebhookReadQueries {
  private readonly byId: Statement<[string], WebhookTuple>;
  private readonly all: Statement<[], WebhookTuple>;
  private readonly ofOrg: Statement<[string, string, number], WebhookTuple>;

  constructor(db: SqliteDatabase) {
    this.byId = db
      .prepare<[string], WebhookTuple>(`SELECT ${COLUMNS} FROM webhook_subscriptions WHERE id = ?`)
      .raw(true);
    this.all = db.prepare<[], WebhookTuple>(`SELECT ${COLUMNS} FROM webhook_subscriptions ORDER BY id`).raw(true);
    this.ofOrg = db
      .prepare<[string, string, number], WebhookTuple>(
        `SELECT ${COLUMNS} FROM webhook_subscriptions WHERE org_id = ? AND id > ? ORDER BY id LIMIT ?`,
      )
      .raw(true);
  }

  async get(subscriptionId: string): Promise<WebhookSubscriptionView | undefined> {
    const row = this.byId.get(subscriptionId);
    return row === undefined ? undefined : toView(row);
  }

  async listAll(): Promise<WebhookSubscriptionView[]> {
    return this.all.all().map(toView);
  }

  async listByOrg(orgId: string, page: PageRequest): Promise<Page<WebhookSubscriptionView>> {
    const limit = pageLimit(page);
    const rows = this.ofOrg.all(orgId, afterId(page), limit + 1);
    return toPage(rows, limit, toView, (row): IdKeyset => ({ i: row[0] }));
  }
}

/** The projection's statements for webhook subscriptions (ReadModelEngine's webhook primitives). */
export class SqliteWebhookRows {
  private readonly byId: Statement<[string], WebhookTuple>;
  private readonly put: Statement<unknown[]>;
  private readonly remove: Statement<[string]>;
  readonly removeOfOrg: Statement<[string]>;

  constructor(db: SqliteDatabase) {
    this.byId = db
      .prepare<[string], WebhookTuple>(`SELECT ${COLUMNS} FROM webhook_subscriptions WHERE id = ?`)
      .raw(true);
    this.put = db.prepare(
      `INSERT OR REPLACE INTO webhook_subscriptions (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.remove = db.prepare('DELETE FROM webhook_subscriptions WHERE id = ?');
    this.removeOfOrg = db.prepare('DELETE FROM webhook_subscriptions WHERE org_id = ?');
  }

  get(subscriptionId: string): WebhookSubscriptionView | undefined {
    const row = this.byId.get(subscriptionId);
    return row === undefined ? undefined : toView(row);
  }

  upsert(w: WebhookSubscriptionView): void {
    this.put.run(
      w.subscriptionId,
      w.orgId,
      w.url,
      JSON.stringify(w.eventTypes),
      w.description,
      w.enabled ? 1 : 0,
      w.disabledReason,
      w.createdPosition,
      w.replay?.fromPosition ?? null,
      w.replay?.requestedPosition ?? null,
      w.createdAt,
      w.updatedAt,
      w.version,
    );
  }

  delete(subscriptionId: string): void {
    this.remove.run(subscriptionId);
  }
}
