import { OperationsInProgress, type ThrottleCount, type ThrottleStore } from '@arbor/application';
import type { Pool } from 'pg';
import { RateLimiterPostgres, type RateLimiterRes } from 'rate-limiter-flexible';
import { openPoolWithMigrations, quoteSchema, type MigrationPlan } from './schema-migrations';

const TABLE = 'login_throttle';

/**
 * rate-limiter-flexible's own layout (RateLimiterPostgres._getCreateTableStmt), created here under the DDL
 * lock with the deployment's other tables rather than by the library at some point after construction:
 * `expire` is a Unix time in milliseconds. Migration 1 is the schema from before versioned migrations.
 */
const throttleMigrations: MigrationPlan = {
  history: 'throttle_store_migrations',
  migrations: [
    (s) =>
      `CREATE TABLE IF NOT EXISTS ${s}.${TABLE} (key varchar(255) PRIMARY KEY, points integer NOT NULL DEFAULT 0, expire bigint)`,
  ],
};

/** How often expired counters are deleted (by every gateway: the DELETE is idempotent). */
const PURGE_EVERY_MS = 10 * 60_000;

export interface PostgresThrottleStoreOptions {
  /** The schema holding the table, created if absent. Default `arbor`. */
  schema?: string;
  /** Connections in the pool. Default 5: one short statement per use, and gateways open several pools each. */
  poolSize?: number;
}

/**
 * Login-throttle counters in PostgreSQL, shared by every gateway of the deployment, through
 * rate-limiter-flexible's RateLimiterPostgres: each change is one `INSERT ... ON CONFLICT DO UPDATE ...
 * RETURNING`, atomic across connections and processes. The limiter's own limits are unused (LoginThrottle
 * applies the policy): `penalty` adds points with the window as its `customDuration`.
 */
export class PostgresThrottleStore implements ThrottleStore {
  private readonly limiter: RateLimiterPostgres;
  private readonly table: string;
  private readonly purgeTimer: NodeJS.Timeout;
  private closed = false;
  /** Counts begun before close() and not yet settled (the library awaits before it queries). */
  private readonly inProgress = new OperationsInProgress();

  constructor(
    private readonly pool: Pool,
    schema: string,
  ) {
    this.table = `${quoteSchema(schema)}.${TABLE}`;
    this.limiter = new RateLimiterPostgres({
      storeClient: pool,
      storeType: 'pool',
      schemaName: schema,
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
    return toCount(await this.inProgress.track(this.limiter.penalty(key, points, { customDuration: windowSeconds })));
  }

  async delete(key: string): Promise<void> {
    this.assertOpen();
    await this.inProgress.track(this.limiter.delete(key));
  }

  async purgeExpired(): Promise<void> {
    this.assertOpen();
    await this.inProgress.track(this.pool.query(`DELETE FROM ${this.table} WHERE expire <= $1`, [Date.now()]));
  }

  /**
   * Refuses new counts, lets those in progress finish (a login during a graceful stop is counted, not failed with
   * "Cannot use a pool after calling end"), then ends the pool.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.purgeTimer);
    await this.inProgress.settled();
    await this.pool.end();
  }

  private assertOpen(windowSeconds = 1): void {
    if (this.closed) throw new Error('The throttle store is closed.');
    // 0 would mean "never expires" to the library: a counter that no window ever resets.
    if (!(Number.isInteger(windowSeconds) && windowSeconds > 0))
      throw new Error(`windowSeconds must be a whole number above 0, not ${windowSeconds}`);
  }
}

const toCount = (res: RateLimiterRes): ThrottleCount => ({
  points: res.consumedPoints,
  msBeforeReset: Math.max(0, res.msBeforeNext),
});

/** Opens a pool on `connectionString` and creates the throttle table in the schema if needed. */
export async function openPostgresThrottleStore(
  connectionString: string,
  options: PostgresThrottleStoreOptions = {},
): Promise<PostgresThrottleStore> {
  const { pool, schema } = await openPoolWithMigrations(
    connectionString,
    { ...options, poolSize: options.poolSize ?? 5 },
    throttleMigrations,
  );
  return new PostgresThrottleStore(pool, schema);
}
