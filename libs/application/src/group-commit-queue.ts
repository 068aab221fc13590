/** A `transaction()` call waiting for its group. */
export interface QueuedTransaction<Tx> {
  work: (tx: Tx) => Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/**
 * A commit delay, as PostgreSQL's `commit_delay` and `commit_siblings`: under load a new drain waits a little for
 * more transactions, so that they share its group. Each group costs a COMMIT and writes every page it changed once,
 * so more transactions per group write fewer pages each (indexes on scattered keys, the read models' projection of
 * the group): measured on organization creations at 50 connections (README, "What the audit features cost writes"),
 * 2 ms took the bytes written per creation from 69-74 to 62-67 KiB.
 */
export interface CommitDelay {
  /** How long a drain waits before taking its first group (ms). */
  delayMs: number;
  /**
   * The wait applies only when the previous group held at least this many transactions: a lone writer, or a paced
   * trickle, never waits; a queue under load (groups of several) does.
   */
  siblings: number;
  /** The wait ends early once this many transactions are queued (a full group: the drain's `next` max). */
  full: number;
}

/**
 * The queue behind the event-store adapters' group commit. `enqueue` returns the caller's promise. `drain`
 * starts in the check phase after the current poll phase, so every request that arrived with the first call
 * has queued its transaction too (or, with a CommitDelay and a busy queue, up to `delayMs` later); one drain runs
 * at a time and takes groups with `next(max)` until it gets an empty one, and it must settle every item it takes.
 * A call queued after a drain took its last group starts the next drain.
 */
export class GroupCommitQueue<Tx> {
  private readonly pending: Array<QueuedTransaction<Tx>> = [];
  private draining: Promise<void> | undefined;
  /** The size of the last group taken (0 before any). */
  private lastGroup = 0;
  /** Ends a drain's commit delay early (set while it waits). */
  private release: (() => void) | undefined;

  constructor(
    private readonly drain: (next: (max: number) => Array<QueuedTransaction<Tx>>) => Promise<void>,
    private readonly delay?: CommitDelay,
  ) {}

  enqueue<T>(work: (tx: Tx) => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.pending.push({ work, resolve: resolve as (value: unknown) => void, reject });
      if (this.release && this.pending.length >= this.delay!.full) this.release();
      this.schedule();
    });
  }

  /** Resolves once nothing is queued or running. */
  async idle(): Promise<void> {
    while (this.draining) await this.draining;
  }

  private readonly next = (max: number): Array<QueuedTransaction<Tx>> => {
    const group = this.pending.splice(0, max);
    if (group.length > 0) this.lastGroup = group.length;
    return group;
  };

  private schedule(): void {
    if (this.draining) return;
    this.draining = this.startAfterWait()
      .then(() => this.drain(this.next))
      .finally(() => {
        this.draining = undefined;
        if (this.pending.length > 0) this.schedule();
      });
  }

  private startAfterWait(): Promise<void> {
    const delay = this.delay;
    if (!delay || this.lastGroup < delay.siblings) return new Promise((resolve) => setImmediate(resolve));
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => this.release?.(), delay.delayMs);
      this.release = () => {
        clearTimeout(timer);
        this.release = undefined;
        resolve();
      };
      if (this.pending.length >= delay.full) this.release();
    });
  }
}
