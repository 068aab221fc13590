/** A `transaction()` call waiting for its group. */
export interface QueuedTransaction<Tx> {
  work: (tx: Tx) => Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/**
 * The queue behind the event-store adapters' group commit. `enqueue` returns the caller's promise. `drain`
 * starts in the check phase after the current poll phase, so every request that arrived with the first call
 * has queued its transaction too; one drain runs at a time and takes groups with `next(max)` until it gets an
 * empty one, and it must settle every item it takes. A call queued after a drain took its last group starts
 * the next drain.
 */
export class GroupCommitQueue<Tx> {
  private readonly pending: Array<QueuedTransaction<Tx>> = [];
  private draining: Promise<void> | undefined;

  constructor(private readonly drain: (next: (max: number) => Array<QueuedTransaction<Tx>>) => Promise<void>) {}

  enqueue<T>(work: (tx: Tx) => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.pending.push({ work, resolve: resolve as (value: unknown) => void, reject });
      this.schedule();
    });
  }

  /** Resolves once nothing is queued or running. */
  async idle(): Promise<void> {
    while (this.draining) await this.draining;
  }

  private readonly next = (max: number): Array<QueuedTransaction<Tx>> => this.pending.splice(0, max);

  private schedule(): void {
    if (this.draining) return;
    this.draining = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => this.drain(this.next))
      .finally(() => {
        this.draining = undefined;
        if (this.pending.length > 0) this.schedule();
      });
  }
}
