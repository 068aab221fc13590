import { BUSY_RETRY_FIRST_MS, BUSY_RETRY_MAX_MS, isSqliteBusy } from './busy-retry';
import { BUSY_TIMEOUT_MS, type SqliteDatabase } from './open-sqlite-database';

interface Queued<T> {
  item: T;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/**
 * Writes queued items to one SQLite file in one IMMEDIATE transaction per turn of the event loop, for a store that
 * several processes write (the embedded profile's HTTP workers share `sign-ins.sqlite`). Two reasons:
 * - one transaction for everything queued in a turn instead of one per item (fewer WAL commits);
 * - no busy-waiting on the event loop: when another process holds the write lock, SQLite's busy handler would
 *   sleep (1, 2, 5, 10... ms) inside the call, stalling every request of this process; here the transaction is
 *   tried with `busy_timeout = 0` and, on SQLITE_BUSY, tried again after a timer (1 ms doubling to 20 ms), while
 *   the event loop serves others. After BUSY_TIMEOUT_MS of refusals the batch fails with the SQLITE_BUSY error.
 *
 * `enqueue` resolves once its item is committed, or rejects with the error that refused it (a batch that fails
 * for another reason than a busy lock is written again item by item, so one bad item fails only itself). Items are written in the order they were queued. `close` waits for what is
 * queued. Not for writes that must be durable before an answer under `synchronous = FULL` semantics beyond the
 * connection's own: it commits on the connection as configured.
 */
export class BatchedWriter<T> {
  private queue: Array<Queued<T>> = [];
  private scheduled = false;
  private draining: Promise<void> = Promise.resolve();
  private readonly transaction: (items: T[]) => void;

  /** `write(items)` runs inside the transaction; it must be synchronous and throw to roll the batch back. */
  constructor(
    private readonly db: SqliteDatabase,
    write: (items: T[]) => void,
  ) {
    const tx = db.transaction(write);
    this.transaction = (items) => tx.immediate(items);
  }

  /** Queues `item`; resolves once it is committed. */
  enqueue(item: T): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      if (this.scheduled) return;
      this.scheduled = true;
      setImmediate(() => {
        this.scheduled = false;
        this.draining = this.draining.then(() => this.flush());
      });
    });
  }

  /** Resolves once everything queued so far is written (or has failed). */
  async settle(): Promise<void> {
    while (this.scheduled || this.queue.length > 0) {
      await new Promise((r) => setImmediate(r));
      await this.draining;
    }
    await this.draining;
  }

  private async flush(): Promise<void> {
    const batch = this.queue;
    if (batch.length === 0) return;
    this.queue = [];
    const started = Date.now();
    let waitMs = BUSY_RETRY_FIRST_MS;
    for (;;) {
      try {
        this.tryOnce(batch.map((q) => q.item));
        for (const q of batch) q.resolve();
        return;
      } catch (e) {
        if (!isSqliteBusy(e) || Date.now() - started >= BUSY_TIMEOUT_MS) {
          this.oneByOne(batch, e);
          return;
        }
      }
      await new Promise((r) => setTimeout(r, waitMs));
      waitMs = Math.min(waitMs * 2, BUSY_RETRY_MAX_MS);
    }
  }

  /** After a batch failed for another reason than a busy lock: each item alone, so one bad item fails only itself. */
  private oneByOne(batch: Array<Queued<T>>, error: unknown): void {
    if (batch.length === 1) return batch[0].reject(error);
    for (const q of batch) {
      try {
        this.tryOnce([q.item]);
        q.resolve();
      } catch (e) {
        q.reject(e);
      }
    }
  }

  /** One attempt without SQLite's sleeping busy handler; the connection's timeout is restored for other uses. */
  private tryOnce(items: T[]): void {
    this.db.pragma('busy_timeout = 0');
    try {
      this.transaction(items);
    } finally {
      this.db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    }
  }
}
