import type { WebhookAttempt, WebhookCursor, WebhookDeliveryStore } from '@arbor/application';
import type { Pool } from 'pg';
import { openPoolWithMigrations, quoteSchema, type MigrationPlan } from './schema-migrations';

/**
 * The dispatcher's state: a cursor per subscription, the delivery log (one row per attempt: no body, no
 * secret, no personal data) and the lease row that elects one dispatcher among the command services.
 */
const webhookMigrations: MigrationPlan = {
  history: 'webhook_store_migrations',
  migrations: [
    (s) => `
      CREATE TABLE ${s}.webhook_cursors (
        subscription_id text PRIMARY KEY,
        position bigint NOT NULL,
        failures integer NOT NULL,
        next_attempt_at timestamptz,
        replayed_at bigint NOT NULL
      );
      CREATE TABLE ${s}.webhook_attempts (
        attempt_id bigserial PRIMARY KEY,
        subscription_id text NOT NULL,
        event_id text NOT NULL,
        event_type text NOT NULL,
        position bigint NOT NULL,
        attempt integer NOT NULL,
        attempted_at timestamptz NOT NULL,
        outcome text NOT NULL CHECK (outcome IN ('delivered', 'failed')),
        http_status integer,
        error text,
        duration_ms integer NOT NULL
      );
      CREATE INDEX webhook_attempts_by_subscription ON ${s}.webhook_attempts (subscription_id, attempt_id);
      CREATE INDEX webhook_attempts_by_time ON ${s}.webhook_attempts (attempted_at);
      CREATE TABLE ${s}.webhook_lease (id integer PRIMARY KEY CHECK (id = 1), owner text NOT NULL, expires_at timestamptz NOT NULL);`,
  ],
};

interface AttemptRow {
  attempt_id: string;
  subscription_id: string;
  event_id: string;
  event_type: string;
  position: string;
  attempt: number;
  attempted_at: Date;
  outcome: 'delivered' | 'failed';
  http_status: number | null;
  error: string | null;
  duration_ms: number;
}

const toAttempt = (r: AttemptRow): WebhookAttempt => ({
  attemptId: Number(r.attempt_id),
  subscriptionId: r.subscription_id,
  eventId: r.event_id,
  eventType: r.event_type,
  position: Number(r.position),
  attempt: r.attempt,
  attemptedAt: r.attempted_at.toISOString(),
  outcome: r.outcome,
  httpStatus: r.http_status,
  error: r.error,
  durationMs: r.duration_ms,
});

/** WebhookDeliveryStore in PostgreSQL, shared by every command service of the deployment. */
export class PostgresWebhookDeliveryStore implements WebhookDeliveryStore {
  private readonly s: string;
  private closed = false;

  constructor(
    private readonly pool: Pool,
    schema: string,
  ) {
    this.s = quoteSchema(schema);
  }

  async cursor(subscriptionId: string): Promise<WebhookCursor | undefined> {
    const { rows } = await this.open().pool.query<{
      position: string;
      failures: number;
      next_attempt_at: Date | null;
      replayed_at: string;
    }>(`SELECT * FROM ${this.s}.webhook_cursors WHERE subscription_id = $1`, [subscriptionId]);
    const r = rows[0];
    return r
      ? {
          subscriptionId,
          position: Number(r.position),
          failures: r.failures,
          nextAttemptAt: r.next_attempt_at?.toISOString() ?? null,
          replayedAt: Number(r.replayed_at),
        }
      : undefined;
  }

  async saveCursor(c: WebhookCursor): Promise<void> {
    await this.open().pool.query(
      `INSERT INTO ${this.s}.webhook_cursors (subscription_id, position, failures, next_attempt_at, replayed_at)
       VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (subscription_id) DO UPDATE SET position = excluded.position, failures = excluded.failures,
         next_attempt_at = excluded.next_attempt_at, replayed_at = excluded.replayed_at`,
      [c.subscriptionId, c.position, c.failures, c.nextAttemptAt, c.replayedAt],
    );
  }

  async saveProgress(cursor: WebhookCursor, attempts: ReadonlyArray<Omit<WebhookAttempt, 'attemptId'>>): Promise<void> {
    // One statement, so both or neither: the attempts in order (WITH ORDINALITY keeps their ids increasing), then
    // the cursor.
    const column = <T>(f: (a: Omit<WebhookAttempt, 'attemptId'>) => T): T[] => attempts.map(f);
    await this.open().pool.query(
      `WITH logged AS (
         INSERT INTO ${this.s}.webhook_attempts (subscription_id, event_id, event_type, position, attempt, attempted_at,
           outcome, http_status, error, duration_ms)
         SELECT s, e, t, p, n, at, o, h, err, d
         FROM unnest($6::text[], $7::text[], $8::text[], $9::bigint[], $10::int[], $11::timestamptz[], $12::text[],
           $13::int[], $14::text[], $15::int[]) WITH ORDINALITY AS a(s, e, t, p, n, at, o, h, err, d, i)
         ORDER BY i
       )
       INSERT INTO ${this.s}.webhook_cursors (subscription_id, position, failures, next_attempt_at, replayed_at)
       VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (subscription_id) DO UPDATE SET position = excluded.position, failures = excluded.failures,
         next_attempt_at = excluded.next_attempt_at, replayed_at = excluded.replayed_at`,
      [
        cursor.subscriptionId,
        cursor.position,
        cursor.failures,
        cursor.nextAttemptAt,
        cursor.replayedAt,
        column((a) => a.subscriptionId),
        column((a) => a.eventId),
        column((a) => a.eventType),
        column((a) => a.position),
        column((a) => a.attempt),
        column((a) => a.attemptedAt),
        column((a) => a.outcome),
        column((a) => a.httpStatus),
        column((a) => a.error),
        column((a) => Math.round(a.durationMs)),
      ],
    );
  }

  async attempts(subscriptionId: string, page: { limit: number; before?: number }): Promise<WebhookAttempt[]> {
    const { rows } = await this.open().pool.query<AttemptRow>(
      `SELECT * FROM ${this.s}.webhook_attempts WHERE subscription_id = $1 AND attempt_id < $2
       ORDER BY attempt_id DESC LIMIT $3`,
      [subscriptionId, page.before ?? Number.MAX_SAFE_INTEGER, page.limit],
    );
    return rows.map(toAttempt);
  }

  async dropCursor(subscriptionId: string): Promise<void> {
    await this.open().pool.query(`DELETE FROM ${this.s}.webhook_cursors WHERE subscription_id = $1`, [subscriptionId]);
  }

  async cursorIds(): Promise<string[]> {
    const { rows } = await this.open().pool.query<{ subscription_id: string }>(
      `SELECT subscription_id FROM ${this.s}.webhook_cursors ORDER BY subscription_id COLLATE "C"`,
    );
    return rows.map((r) => r.subscription_id);
  }

  async purgeAttempts(attemptedBefore: string): Promise<number> {
    const result = await this.open().pool.query(`DELETE FROM ${this.s}.webhook_attempts WHERE attempted_at < $1`, [
      attemptedBefore,
    ]);
    return result.rowCount ?? 0;
  }

  async lease(owner: string, ttlMs: number): Promise<boolean> {
    const result = await this.open().pool.query(
      `INSERT INTO ${this.s}.webhook_lease (id, owner, expires_at) VALUES (1, $1, now() + $2 * interval '1 millisecond')
       ON CONFLICT (id) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at
       WHERE webhook_lease.owner = excluded.owner OR webhook_lease.expires_at < now()`,
      [owner, ttlMs],
    );
    return result.rowCount === 1;
  }

  async releaseLease(owner: string): Promise<void> {
    await this.open().pool.query(`DELETE FROM ${this.s}.webhook_lease WHERE owner = $1`, [owner]);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
  }

  private open(): this {
    if (this.closed) throw new Error('The webhook delivery store is closed.');
    return this;
  }
}

/** Opens a pool on `connectionString` and creates the delivery store's tables in the schema if needed. */
export async function openPostgresWebhookDeliveryStore(
  connectionString: string,
  options: { schema?: string; poolSize?: number } = {},
): Promise<PostgresWebhookDeliveryStore> {
  const { pool, schema } = await openPoolWithMigrations(
    connectionString,
    { ...options, poolSize: options.poolSize ?? 4 },
    webhookMigrations,
  );
  return new PostgresWebhookDeliveryStore(pool, schema);
}
