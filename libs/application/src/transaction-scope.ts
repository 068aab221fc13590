import { AsyncLocalStorage } from 'node:async_hooks';

/** Marks the async context of one running callback; cleared when the callback settles. */
interface Marker {
  active: boolean;
}

/**
 * Tells whether the caller runs inside one of this scope's callbacks, so an event store can refuse a nested
 * `transaction()` (or `completeIdempotency`) that would wait for the transaction it runs in.
 *
 * Why not a bare AsyncLocalStorage: on Node 20 a storage that has run once keeps V8's promise hooks on for
 * the whole process, and then every promise of every request pays for them (about a tenth of an
 * authenticated GET, measured with `npm run bench`). This scope turns its storage off whenever none of its
 * callbacks is running, so reads pay only while a write is in progress.
 *
 * Invariant: `isInside()` is true exactly in the async context of a callback that has not settled yet;
 * continuations it left behind (a timer, an unawaited promise) see false once it has.
 */
export class TransactionScope {
  private readonly storage = new AsyncLocalStorage<Marker>();
  private running = 0;

  isInside(): boolean {
    return this.storage.getStore()?.active === true;
  }

  /** Callbacks currently running (started and not settled). */
  get size(): number {
    return this.running;
  }

  async run<T>(work: () => Promise<T>): Promise<T> {
    const marker: Marker = { active: true };
    this.running += 1;
    try {
      return await this.storage.run(marker, work);
    } finally {
      marker.active = false;
      this.running -= 1;
      // Contexts of settled callbacks only hold inactive markers: nothing is lost by dropping them.
      if (this.running === 0) this.storage.disable();
    }
  }
}
