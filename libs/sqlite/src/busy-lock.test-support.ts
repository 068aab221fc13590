import Database from 'better-sqlite3';

/**
 * Runs `operation` while another connection to `file` (what another process of the data directory would be)
 * holds its write lock, and checks how it waits: the event loop must keep running (five 5 ms timers fire) while
 * the operation has not settled; then the lock is released and the operation's value returned. With SQLite's
 * busy handler the operation would instead sleep inside the call, on this thread, until its timeout ran out
 * (the timers and the release could never run), and reject with SQLITE_BUSY.
 */
export async function whileAnotherHoldsTheWriteLock<T>(
  file: string,
  operation: () => Promise<T>,
): Promise<{ value: T; settledWhileLocked: boolean }> {
  const other = new Database(file, { timeout: 0 });
  try {
    other.exec('BEGIN IMMEDIATE');
    let settled = false;
    const pending = operation().finally(() => (settled = true));
    // The rejection is looked at below; until then it must not count as unhandled.
    pending.catch(() => undefined);
    for (let tick = 0; tick < 5; tick++) await new Promise((resolve) => setTimeout(resolve, 5));
    const settledWhileLocked = settled;
    other.exec('COMMIT');
    return { value: await pending, settledWhileLocked };
  } finally {
    if (other.inTransaction) other.exec('ROLLBACK');
    other.close();
  }
}
