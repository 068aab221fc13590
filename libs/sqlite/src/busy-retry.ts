import { BUSY_TIMEOUT_MS, type SqliteDatabase } from './open-sqlite-database';

/** The first wait after SQLITE_BUSY, in ms; it doubles up to BUSY_RETRY_MAX_MS. */
export const BUSY_RETRY_FIRST_MS = 1;
/** The longest wait between two attempts, in ms. */
export const BUSY_RETRY_MAX_MS = 20;

/**
 * Whether `error` is SQLITE_BUSY or one of its extended codes (`_RECOVERY`, `_SNAPSHOT`, `_TIMEOUT`): another
 * connection's lock, not a fault of the statement.
 */
export const isSqliteBusy = (error: unknown): boolean => {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('SQLITE_BUSY');
};

/**
 * Turns off SQLite's own busy handler on `db` for good: from now on a statement that meets another connection's
 * lock fails at once with SQLITE_BUSY instead of sleeping (1, 2, 5, 10... ms) inside the call, on the event loop,
 * stalling every request of the process. Every use of the connection must then go through `retryWhileBusy`.
 * For the files that several processes of one data directory write (the embedded profile's HTTP workers and
 * the writer: tokens, login throttle, vault). Call it after the migrations, which may wait as they are.
 */
export function refuseBusyWaits(db: SqliteDatabase): void {
  db.pragma('busy_timeout = 0');
}

/**
 * Runs `attempt` (SQLite work on a connection set up by `refuseBusyWaits`) and, while it fails with SQLITE_BUSY,
 * tries it again after a timer (1 ms, doubling to 20 ms), so that the event loop serves other requests in the
 * meantime; after `timeoutMs` (default BUSY_TIMEOUT_MS, 5 s: what the busy handler allowed) the last SQLITE_BUSY
 * is thrown. Any other error is thrown at once. `attempt` must be all-or-nothing (one statement or one
 * transaction): it may run several times. When the lock is free it runs once, at once.
 */
export async function retryWhileBusy<T>(attempt: () => T | Promise<T>, timeoutMs = BUSY_TIMEOUT_MS): Promise<T> {
  const started = Date.now();
  let waitMs = BUSY_RETRY_FIRST_MS;
  for (;;) {
    try {
      return await attempt();
    } catch (e) {
      if (!isSqliteBusy(e) || Date.now() - started >= timeoutMs) throw e;
    }
    await new Promise((resolve) => setTimeout(resolve, waitMs));
    waitMs = Math.min(waitMs * 2, BUSY_RETRY_MAX_MS);
  }
}
