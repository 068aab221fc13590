import { OperationsInProgress, type ThrottleCount, type ThrottleStore } from '@arbor/application';
import { RateLimiterSQLite, type RateLimiterRes } from 'rate-limiter-flexible';
import { applyMigrations } from './apply-migrations';
import { refuseBusyWaits, retryWhileBusy } from './busy-retry';
import { openSqliteDatabase, type SqliteDatabase } from './open-sqlite-database';

const TABLE = 'login_throttle';

/**
 * rate-limiter-flexible's own layout (RateLimiterSQLite._getCreateTableSQL), created by our migrations so
 * that the schema is versioned like every other file's: `expire` is a Unix time in milliseconds.
 */
const THROTTLE_MIGRATIONS: readonly string[] = [
  `CREATE TABLE ${TABLE} (key TEXT PRIMARY KEY, points INTEGER NOT NULL DEFAULT 0, expire INTEGER)`,
];

/** How often expired counters are deleted. */
const PURGE_EVERY_MS = 10 * 60_000;

/**
 * Login-throttle counters in their own SQLite file, through rate-limiter-flexible's RateLimiterSQLite: each
 * change is one `INSERT ... ON CONFLICT DO UPDATE ... RETURNING` in a transaction, atomic across connections
 * and processes. The limiter's own limits are unused (LoginThrottle applies the policy): `penalty` adds
 * points with the window as its `customDuration` (0 points: a read), `delete` forgets. Every HTTP worker of the
 * embedded profile counts in this file: a count that meets another's lock is retried on a timer
 * (`retryWhileBusy`) instead of sleeping in SQLite's busy handler on the event loop.
 */
export class SqliteThrottleStore implements ThrottleStore {
  private readonly limiter: RateLimiterSQLite;
  private readonly purgeTimer: NodeJS.Timeout;
  private closed = false;
  /** Counts begun before close() and not yet settled. */
  private readonly inProgress = new OperationsInProgress();

  constructor(private readonly db: SqliteDatabase) {
    this.limiter = new RateLimiterSQLite({
      storeClient: statementCachingClient(db),
      storeType: 'better-sqlite3',
      tableName: TABLE,
      tableCreated: true,
      clearExpiredByTimeout: false,
      keyPrefix: '',
      points: 1,
      duration: 1,
    });
    this.purgeTimer = setInterval(() => void this.purgeExpired().catch(() => undefined), PURGE_EVERY_MS);
    this.purgeTimer.unref();
  }

  async add(key: string, points: number, windowSeconds: number): Promise<ThrottleCount> {
    this.assertOpen(windowSeconds);
    return toCount(
      await this.inProgress.track(
        retryWhileBusy(() => this.limiter.penalty(key, points, { customDuration: windowSeconds })),
      ),
    );
  }

  async delete(key: string): Promise<void> {
    this.assertOpen();
    await this.inProgress.track(retryWhileBusy(() => this.limiter.delete(key)));
  }

  async purgeExpired(): Promise<void> {
    this.assertOpen();
    await this.inProgress.track(
      retryWhileBusy(() => this.db.prepare(`DELETE FROM ${TABLE} WHERE expire <= ?`).run(Date.now())),
    );
  }

  /**
   * Refuses new counts, then lets those in progress finish (one may be waiting out another process's lock on a
   * timer, up to retryWhileBusy's 5 s) before the connection closes: a login during a graceful stop is counted,
   * not failed with "connection is not open".
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.purgeTimer);
    await this.inProgress.settled();
    this.db.close();
  }

  private assertOpen(windowSeconds = 1): void {
    if (this.closed) throw new Error('The throttle store is closed.');
    // 0 would mean "never expires" to the library: a counter that no window ever resets.
    if (!(Number.isInteger(windowSeconds) && windowSeconds > 0))
      throw new Error(`windowSeconds must be a whole number above 0, not ${windowSeconds}`);
  }
}

/**
 * What RateLimiterSQLite (11.4.0) calls on a better-sqlite3 client is `prepare(sql)` and `transaction(fn)`,
 * once per operation: preparing the same few statements again and wrapping each single statement in
 * BEGIN/COMMIT cost ~0.4 ms of the event loop per count (a third of the event loop under a password flood,
 * measured with `node --cpu-prof`). This client prepares each statement once, and runs `transaction(fn)`
 * as `fn`: every statement the limiter sends is one `INSERT ... ON CONFLICT ... RETURNING`, `SELECT` or
 * `DELETE`, which SQLite applies atomically on its own (autocommit).
 */
function statementCachingClient(db: SqliteDatabase): Pick<SqliteDatabase, 'prepare' | 'transaction'> {
  const statements = new Map<string, ReturnType<SqliteDatabase['prepare']>>();
  return {
    prepare: ((sql: string) => {
      let statement = statements.get(sql);
      if (!statement) statements.set(sql, (statement = db.prepare(sql)));
      return statement;
    }) as SqliteDatabase['prepare'],
    transaction: ((fn: (...args: unknown[]) => unknown) => fn) as unknown as SqliteDatabase['transaction'],
  };
}

const toCount = (res: RateLimiterRes): ThrottleCount => ({
  points: res.consumedPoints,
  msBeforeReset: Math.max(0, res.msBeforeNext),
});

/**
 * Opens (creating and migrating if needed) the throttle store in `file`, mode 0600 (as every SQLite file): its keys are keyed hashes,
 * but which accounts are under attack is still nobody else's business. `synchronous = NORMAL`: a crash of the
 * machine may lose the last counts (a few attempts more for an attacker), never corrupt the file, and no
 * login waits for an fsync.
 */
export function openSqliteThrottleStore(file: string): SqliteThrottleStore {
  const db = openSqliteDatabase(file, { synchronous: 'NORMAL' });
  try {
    applyMigrations(db, THROTTLE_MIGRATIONS);
    const store = new SqliteThrottleStore(db);
    refuseBusyWaits(db);
    return store;
  } catch (e) {
    db.close();
    throw e;
  }
}
