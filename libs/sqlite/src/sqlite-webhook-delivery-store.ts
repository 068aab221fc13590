import type { WebhookAttempt, WebhookCursor, WebhookDeliveryStore } from '@arbor/application';
import { applyMigrations } from './apply-migrations';
import { openSqliteDatabase, type SqliteDatabase } from './open-sqlite-database';

/**
 * The dispatcher's state: a cursor per subscription, the delivery log (one row per attempt, no body, no
 * secret, no personal data) and the lease row that elects one dispatcher. Times are ISO 8601 text (they sort).
 */
const WEBHOOK_MIGRATIONS: readonly string[] = [
  `CREATE TABLE webhook_cursors (
     subscription_id TEXT PRIMARY KEY,
     position INTEGER NOT NULL,
     failures INTEGER NOT NULL,
     next_attempt_at TEXT,
     replayed_at INTEGER NOT NULL
   );
   CREATE TABLE webhook_attempts (
     attempt_id INTEGER PRIMARY KEY AUTOINCREMENT,
     subscription_id TEXT NOT NULL,
     event_id TEXT NOT NULL,
     event_type TEXT NOT NULL,
     position INTEGER NOT NULL,
     attempt INTEGER NOT NULL,
     attempted_at TEXT NOT NULL,
     outcome TEXT NOT NULL CHECK (outcome IN ('delivered', 'failed')),
     http_status INTEGER,
     error TEXT,
     duration_ms INTEGER NOT NULL
   );
   CREATE INDEX webhook_attempts_by_subscription ON webhook_attempts (subscription_id, attempt_id);
   CREATE INDEX webhook_attempts_by_time ON webhook_attempts (attempted_at);
   CREATE TABLE webhook_lease (id INTEGER PRIMARY KEY CHECK (id = 1), owner TEXT NOT NULL, expires_at INTEGER NOT NULL);`,
];

interface CursorRow {
  subscription_id: string;
  position: number;
  failures: number;
  next_attempt_at: string | null;
  replayed_at: number;
}

interface AttemptRow {
  attempt_id: number;
  subscription_id: string;
  event_id: string;
  event_type: string;
  position: number;
  attempt: number;
  attempted_at: string;
  outcome: 'delivered' | 'failed';
  http_status: number | null;
  error: string | null;
  duration_ms: number;
}

const toAttempt = (r: AttemptRow): WebhookAttempt => ({
  attemptId: r.attempt_id,
  subscriptionId: r.subscription_id,
  eventId: r.event_id,
  eventType: r.event_type,
  position: r.position,
  attempt: r.attempt,
  attemptedAt: r.attempted_at,
  outcome: r.outcome,
  httpStatus: r.http_status,
  error: r.error,
  durationMs: r.duration_ms,
});

/** WebhookDeliveryStore in its own SQLite file (`webhooks.sqlite` in the data directory). */
export class SqliteWebhookDeliveryStore implements WebhookDeliveryStore {
  private readonly st;
  private readonly progress: (
    cursor: WebhookCursor,
    attempts: ReadonlyArray<Omit<WebhookAttempt, 'attemptId'>>,
  ) => void;
  private closed = false;

  constructor(private readonly db: SqliteDatabase) {
    this.st = {
      cursor: db.prepare<[string], CursorRow>('SELECT * FROM webhook_cursors WHERE subscription_id = ?'),
      saveCursor: db.prepare<[string, number, number, string | null, number]>(
        `INSERT INTO webhook_cursors (subscription_id, position, failures, next_attempt_at, replayed_at)
         VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (subscription_id) DO UPDATE SET position = excluded.position, failures = excluded.failures,
           next_attempt_at = excluded.next_attempt_at, replayed_at = excluded.replayed_at`,
      ),
      record: db.prepare<
        [string, string, string, number, number, string, string, number | null, string | null, number]
      >(
        `INSERT INTO webhook_attempts (subscription_id, event_id, event_type, position, attempt, attempted_at, outcome,
           http_status, error, duration_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      attempts: db.prepare<[string, number, number], AttemptRow>(
        `SELECT * FROM webhook_attempts WHERE subscription_id = ? AND attempt_id < ?
         ORDER BY attempt_id DESC LIMIT ?`,
      ),
      dropCursor: db.prepare<[string]>('DELETE FROM webhook_cursors WHERE subscription_id = ?'),
      cursorIds: db.prepare<[], string>('SELECT subscription_id FROM webhook_cursors ORDER BY subscription_id').pluck(),
      purge: db.prepare<[string]>('DELETE FROM webhook_attempts WHERE attempted_at < ?'),
      lease: db.prepare<[string, number, number]>(
        `INSERT INTO webhook_lease (id, owner, expires_at) VALUES (1, ?, ?)
         ON CONFLICT (id) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at
         WHERE webhook_lease.owner = excluded.owner OR webhook_lease.expires_at < ?`,
      ),
      releaseLease: db.prepare<[string]>('DELETE FROM webhook_lease WHERE owner = ?'),
    };
    this.progress = db.transaction((c: WebhookCursor, attempts: ReadonlyArray<Omit<WebhookAttempt, 'attemptId'>>) => {
      for (const a of attempts)
        this.st.record.run(
          a.subscriptionId,
          a.eventId,
          a.eventType,
          a.position,
          a.attempt,
          a.attemptedAt,
          a.outcome,
          a.httpStatus,
          a.error,
          Math.round(a.durationMs),
        );
      this.st.saveCursor.run(c.subscriptionId, c.position, c.failures, c.nextAttemptAt, c.replayedAt);
    });
  }

  async cursor(subscriptionId: string): Promise<WebhookCursor | undefined> {
    const r = this.open().st.cursor.get(subscriptionId);
    return r
      ? {
          subscriptionId: r.subscription_id,
          position: r.position,
          failures: r.failures,
          nextAttemptAt: r.next_attempt_at,
          replayedAt: r.replayed_at,
        }
      : undefined;
  }

  async saveCursor(c: WebhookCursor): Promise<void> {
    this.open().st.saveCursor.run(c.subscriptionId, c.position, c.failures, c.nextAttemptAt, c.replayedAt);
  }

  async saveProgress(cursor: WebhookCursor, attempts: ReadonlyArray<Omit<WebhookAttempt, 'attemptId'>>): Promise<void> {
    this.open().progress(cursor, attempts);
  }

  async attempts(subscriptionId: string, page: { limit: number; before?: number }): Promise<WebhookAttempt[]> {
    return this.open()
      .st.attempts.all(subscriptionId, page.before ?? Number.MAX_SAFE_INTEGER, page.limit)
      .map(toAttempt);
  }

  async dropCursor(subscriptionId: string): Promise<void> {
    this.open().st.dropCursor.run(subscriptionId);
  }

  async cursorIds(): Promise<string[]> {
    return this.open().st.cursorIds.all();
  }

  async purgeAttempts(attemptedBefore: string): Promise<number> {
    return this.open().st.purge.run(attemptedBefore).changes;
  }

  async lease(owner: string, ttlMs: number): Promise<boolean> {
    const now = Date.now();
    return this.open().st.lease.run(owner, now + ttlMs, now).changes === 1;
  }

  async releaseLease(owner: string): Promise<void> {
    this.open().st.releaseLease.run(owner);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.db.close();
  }

  private open(): this {
    if (this.closed) throw new Error('The webhook delivery store is closed.');
    return this;
  }
}

/**
 * Opens (creating and migrating if needed) the delivery store in `file`, mode 0600 like every SQLite file.
 * `synchronous = NORMAL`: a machine crash may lose the last cursor moves, which only repeats deliveries (at
 * least once, and `webhook-id` lets receivers drop repeats), never skips one.
 */
export function openSqliteWebhookDeliveryStore(file: string): SqliteWebhookDeliveryStore {
  const db = openSqliteDatabase(file, { synchronous: 'NORMAL' });
  try {
    applyMigrations(db, WEBHOOK_MIGRATIONS);
    return new SqliteWebhookDeliveryStore(db);
  } catch (e) {
    db.close();
    throw e;
  }
}
