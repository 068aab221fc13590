import type { Logger } from '@arbor/application';
import type { SqliteDatabase } from './open-sqlite-database';

/** The first retry's delay, in ms; each next one doubles, up to MAX_RETRY_MS. */
const FIRST_RETRY_MS = 2;
/** The longest delay between two retries, in ms. */
const MAX_RETRY_MS = 1000;
/** How long `request()` waits for the WAL to be emptied before it returns and leaves the retries running, in ms. */
export const TRUNCATION_WAIT_MS = 2000;
/**
 * The same for a caller inside the event log's write group or a projection batch, whom every write waits for: long
 * enough for the readers of this code (an HTTP worker's query, the checkpointer's pass: milliseconds), short enough
 * that a long one (a backup's copy) does not hold up every write.
 */
export const SHORT_TRUNCATION_WAIT_MS = 50;
/** How long a truncation may stay pending before it is reported (WalTruncationReport `stuck`), in ms. */
export const STUCK_AFTER_MS = 10_000;

/**
 * What a WalTruncation tells its owner's log, at most once each per pending truncation:
 * - `stuck`: still refused `pendingMs` after the deletion (a reader has held the WAL that long: a backup's copy, a
 *   worker's long query): the deleted bytes are still in the WAL file meanwhile;
 * - `error`: a retry failed with something other than SQLITE_BUSY/SQLITE_LOCKED (an I/O error): still retried;
 * - `emptied`: the WAL was emptied after one of the above had been reported (`pendingMs` after the deletion).
 * `file` is the database file's path; `error` the message, for `error` only. It never holds the deleted data.
 */
export interface WalTruncationReport {
  kind: 'stuck' | 'error' | 'emptied';
  file: string;
  pendingMs: number;
  error?: string;
}

/** How a store reports its truncations' trouble (log it as a warning: deleted data lingers on disk meanwhile). */
export type WalTruncationReporter = (report: WalTruncationReport) => void;

/** A row of `PRAGMA wal_checkpoint(TRUNCATE)` (https://www.sqlite.org/pragma.html#pragma_wal_checkpoint). */
interface CheckpointRow {
  /** 1 when the checkpoint could not complete: a reader (any connection, any process) still uses the WAL. */
  busy: number;
}

/**
 * Empties a WAL file after a deletion whose old bytes must not linger there (a destroyed data key, a deleted secret
 * hash, an erased user's rows, dropped request metadata): `wal_checkpoint(TRUNCATE)` copies every frame into the
 * database file (where `secure_delete` already overwrote the row) and truncates the WAL to zero bytes.
 *
 * It can only complete once no connection reads from the WAL any more, those of other processes included (the
 * embedded profile's HTTP workers read the vault and the read models). SQLite then answers `busy` and leaves the WAL
 * as it was, the deleted bytes in it; and before answering so it sleeps in the connection's busy handler, on the
 * event loop, for up to the busy timeout (5 s). So the checkpoint is tried without waiting (busy timeout 0 for that
 * statement) and, while it is refused, tried again on a timer (2 ms, doubling to 1 s) until it completes or the
 * connection closes (SQLite then removes the WAL itself if that was the last connection).
 *
 * Invariant: after `request()`, the WAL is emptied by a checkpoint that started after the deletion, unless the
 * connection closes first.
 */
export class WalTruncation {
  private timer: NodeJS.Timeout | undefined;
  private delayMs = FIRST_RETRY_MS;
  private pending = false;
  private closed = false;
  private waiters: Array<() => void> = [];
  /** When the pending truncation was first requested (ms since the epoch); undefined when none is pending. */
  private pendingSince: number | undefined;
  /** Whether the pending truncation was reported as stuck / failing (each at most once, then `emptied`). */
  private reported = { stuck: false, error: false };

  /**
   * `run` wraps each attempt when the connection may be inside a transaction at that moment (the event store runs
   * it between its write groups, where the checkpoint cannot fail with SQLITE_LOCKED); by default it runs as is.
   * `report` hears of a truncation refused for `stuckAfterMs` (STUCK_AFTER_MS by default) or failing otherwise.
   */
  constructor(
    private readonly db: SqliteDatabase,
    private readonly run: (attempt: () => void) => void | Promise<void> = (attempt) => attempt(),
    private readonly options: { report?: WalTruncationReporter; stuckAfterMs?: number } = {},
  ) {}

  /**
   * Empties the WAL now if nothing reads from it, else as soon as a retry finds it free; resolves once it is empty,
   * or after `waitMs` (TRUNCATION_WAIT_MS by default; SHORT_TRUNCATION_WAIT_MS for a caller that holds something
   * others wait for: a write group, the projection of a batch) with the retries still running (`emptied()` tells
   * when they end). Rejects only with what that attempt's checkpoint throws besides SQLITE_BUSY and SQLITE_LOCKED (an I/O
   * error, as the plain pragma would have thrown); a retry's such error is retried too.
   */
  async request(options: { waitMs?: number } = {}): Promise<void> {
    this.pending = true;
    this.pendingSince ??= Date.now();
    this.delayMs = FIRST_RETRY_MS;
    await this.attempt();
    if (!this.pending || this.closed) return;
    // A reader's transactions are short (an HTTP worker's query): waiting here, off the event loop, keeps "the
    // deletion has returned, so no copy is left" true in practice for a caller that holds nothing else.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.emptied(),
      new Promise<void>((resolve) => (timer = setTimeout(resolve, options.waitMs ?? TRUNCATION_WAIT_MS))),
    ]);
    clearTimeout(timer);
  }

  /** Resolves once no truncation is pending (at once when none is); also when the connection closes first. */
  emptied(): Promise<void> {
    if (!this.pending || this.closed) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Stops retrying (call before closing the connection); waiters of `emptied` are released. */
  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.settle();
  }

  private async attempt(): Promise<void> {
    if (this.closed || !this.pending) return;
    clearTimeout(this.timer);
    this.timer = undefined;
    let done = false;
    try {
      await this.run(() => {
        if (!this.closed) done = this.truncateWithoutWaiting();
      });
    } catch (e) {
      this.retryLater();
      throw e;
    }
    if (done) {
      this.pending = false;
      if (this.reported.stuck || this.reported.error) this.tell('emptied');
      this.pendingSince = undefined;
      this.reported = { stuck: false, error: false };
      this.settle();
    } else {
      if (!this.reported.stuck && this.pendingMs() >= (this.options.stuckAfterMs ?? STUCK_AFTER_MS)) {
        this.reported.stuck = true;
        this.tell('stuck');
      }
      this.retryLater();
    }
  }

  private pendingMs(): number {
    return this.pendingSince === undefined ? 0 : Date.now() - this.pendingSince;
  }

  private tell(kind: WalTruncationReport['kind'], error?: unknown): void {
    const report: WalTruncationReport = { kind, file: this.db.name, pendingMs: this.pendingMs() };
    if (error !== undefined) report.error = error instanceof Error ? error.message : String(error);
    try {
      this.options.report?.(report);
    } catch {
      // A reporter's failure must not stop the retries.
    }
  }

  private retryLater(): void {
    if (this.closed || !this.pending || this.timer !== undefined) return;
    const retry = () =>
      void this.attempt().catch((e: unknown) => {
        if (!this.reported.error) {
          this.reported.error = true;
          this.tell('error', e);
        }
        this.retryLater();
      });
    this.timer = setTimeout(retry, this.delayMs);
    this.timer.unref();
    this.delayMs = Math.min(this.delayMs * 2, MAX_RETRY_MS);
  }

  /** One TRUNCATE checkpoint with the busy handler off; true when it completed. */
  private truncateWithoutWaiting(): boolean {
    const timeout = this.db.pragma('busy_timeout', { simple: true }) as number;
    this.db.pragma('busy_timeout = 0');
    try {
      const [row] = this.db.pragma('wal_checkpoint(TRUNCATE)') as CheckpointRow[];
      return row !== undefined && row.busy === 0;
    } catch (e) {
      // Another connection holds the write lock (SQLITE_BUSY) or this one is inside a transaction (SQLITE_LOCKED).
      if (/^SQLITE_(BUSY|LOCKED)/.test((e as { code?: string }).code ?? '')) return false;
      throw e;
    } finally {
      this.db.pragma(`busy_timeout = ${timeout}`);
    }
  }

  private settle(): void {
    for (const resolve of this.waiters.splice(0)) resolve();
  }
}

/**
 * The usual reporter: `stuck` and `error` as warnings (deleted data is still in a WAL file on disk meanwhile),
 * `emptied` as information. The messages name the kind; the fields are the report's (never the deleted data).
 */
export function logWalTruncation(log: Pick<Logger, 'warn' | 'info'>): WalTruncationReporter {
  return ({ kind, ...fields }) => {
    const [level, message] = WAL_TRUNCATION_LOG_LINES[kind];
    log[level](message, fields);
  };
}

/** The level and message of each report's kind (a new kind fails the build until it has its line). */
const WAL_TRUNCATION_LOG_LINES = {
  stuck: ['warn', 'WAL still holds deleted data: a reader keeps it from being emptied'],
  error: ['warn', 'WAL truncation after a deletion failed; retrying'],
  emptied: ['info', 'WAL emptied of deleted data after a delay'],
} as const satisfies Record<WalTruncationReport['kind'], readonly ['warn' | 'info', string]>;
