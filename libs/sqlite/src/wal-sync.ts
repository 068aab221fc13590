import { closeSync, constants, fdatasync, fdatasyncSync, openSync } from 'node:fs';

/**
 * Makes an SQLite WAL database's commits durable off the event loop (issue 15: "fdatasync off the event loop").
 *
 * The writer connection runs with `synchronous = NORMAL`, so SQLite's COMMIT writes the transaction's WAL frames
 * (into the operating system's cache, safe from a process crash) but does not wait for the disk. After each
 * COMMIT the store asks `committed()` for a promise, and resolves its callers only when that promise does: one
 * `fdatasync` of the WAL file, run on libuv's thread pool, covers every commit made before it started, so commits
 * made while one is in flight share the next (a second level of group commit). An acknowledged commit is therefore
 * as durable as under `synchronous = FULL` (whose COMMIT does the same fsync of the WAL, but on the event loop):
 * - SQLite never deletes the WAL while a connection of the store is open (it does so only when the last
 *   connection closes), and truncation (`wal_checkpoint(TRUNCATE)`) keeps the file, so `fd` stays its file;
 * - the checkpoints that copy WAL frames into the database file sync both files under NORMAL too
 *   (https://www.sqlite.org/pragma.html#pragma_synchronous), so a restarted WAL overwrites only frames already
 *   synced into the database. This holds only if every connection that may checkpoint the file, in any process,
 *   runs at NORMAL or stronger: one at OFF would copy and restart without syncing;
 * - several processes may each keep a WalSync on the same WAL (the embedded profile's workers and writer on
 *   `tokens.sqlite`): an fdatasync flushes the file, whoever wrote its frames, and each counts its commit before
 *   its sync begins.
 *
 * Readers of the same process call `settled()` after reading, so nothing they return was committed and not yet
 * durable (see SqliteEventStore). After a failed fdatasync the cache's state is unknown (Linux may drop the dirty
 * pages): every later `committed()` and `settled()` rejects with that failure, and the store refuses writes,
 * until the process restarts and SQLite recovers the file.
 */
export class WalSync {
  /** Commits counted so far (`committed()` calls). */
  private commits = 0;
  /** Every commit up to this count is on stable storage. */
  private synced = 0;
  private syncing = false;
  private closed = false;
  private failure: Error | undefined;
  private waiters: Array<{ commit: number; resolve: () => void; reject: (e: Error) => void }> = [];
  private idleWaiters: Array<() => void> = [];

  /** `fd`: an open descriptor of the WAL file; undefined for a store that never writes (every wait is over at once). */
  /** `what`: the store, as its errors name it ("the event log", "the token store"). */
  private constructor(
    private fd: number | undefined,
    private readonly what: string,
  ) {}

  /**
   * Opens the WAL file `walFile`, which SQLite must have made already (call after the writer connection, in WAL
   * mode, has read the database: it then holds the file open, and SQLite deletes it only when the last connection
   * closes); a missing file throws (ENOENT) rather than syncing another. Pass SQLite's own path of the database
   * (`PRAGMA database_list`): a symbolic link is resolved there, and the WAL lies beside the target.
   * Syncs it once at once: a process that died between a COMMIT and its fdatasync left frames nobody has synced,
   * which SQLite recovers from the operating system's cache and this process would otherwise hand on as durable.
   */
  static open(walFile: string, what = 'the event log'): WalSync {
    const fd = openSync(walFile, constants.O_RDONLY);
    try {
      fdatasyncSync(fd);
    } catch (e) {
      closeSync(fd);
      throw e;
    }
    return new WalSync(fd, what);
  }

  /** For a read-only store: nothing to sync. */
  static none(): WalSync {
    return new WalSync(undefined, 'a read-only store');
  }

  /** The failure that stopped this WAL's syncs, if any (see the class comment). */
  get failed(): Error | undefined {
    return this.failure;
  }

  /** Counts a COMMIT just made; resolves once it is on stable storage, rejects if its fdatasync fails. */
  committed(): Promise<void> {
    this.commits++;
    return this.durable(this.commits);
  }

  /** Resolves once every commit counted so far is on stable storage (at once when none waits). */
  settled(): Promise<void> {
    return this.durable(this.commits);
  }

  /** Waits for the fdatasync in flight, then closes the descriptor. Later commits and waits reject. */
  async close(): Promise<void> {
    if (this.syncing) await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
    this.closed = true;
  }

  private durable(commit: number): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.synced >= commit) return Promise.resolve();
    // Fails closed: a commit counted after close() was never synced.
    if (this.closed)
      return Promise.reject(new Error(`${capitalised(this.what)} is closed: this commit was not synced.`));
    if (this.fd === undefined) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.waiters.push({ commit, resolve, reject });
      this.sync();
    });
  }

  private sync(): void {
    if (this.syncing || this.fd === undefined) return;
    this.syncing = true;
    const covers = this.commits;
    fdatasync(this.fd, (error) => {
      this.syncing = false;
      if (error) {
        // The commits are visible already and may or may not reach the disk: their outcome is unknown, and the
        // operating system may have dropped the dirty pages. The store refuses writes from now on; a restart
        // lets SQLite recover the file as it is.
        this.failure = new Error(
          `fdatasync of ${this.what}'s write-ahead log failed (${error.message}): the outcome of the writes ` +
            `since the last successful one is unknown; ${this.what} refuses writes until the server restarts.`,
          { cause: error },
        );
        for (const w of this.waiters.splice(0)) w.reject(this.failure);
      } else {
        this.synced = covers;
        const done = this.waiters.filter((w) => w.commit <= covers);
        this.waiters = this.waiters.filter((w) => w.commit > covers);
        for (const w of done) w.resolve();
        if (this.waiters.length > 0) this.sync();
      }
      if (!this.syncing) for (const resolve of this.idleWaiters.splice(0)) resolve();
    });
  }
}

const capitalised = (text: string): string => text.charAt(0).toUpperCase() + text.slice(1);
