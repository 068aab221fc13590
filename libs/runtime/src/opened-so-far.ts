/** Anything a start opens that closes itself: a store, a pool, a bus, a transport. */
export interface Closable {
  close(): unknown;
}

/**
 * What a start* function has opened so far, so that a start failing halfway leaves nothing open (connections,
 * pools, threads, a Kafka client that keeps reconnecting in a process that lives on: tests, programmatic use).
 * Each thing adds its closing the moment it is open; `undo()` runs them last to first, every one even when an
 * earlier one throws, at once or later, and never throws itself: the start's own error is the one to report.
 */
export class OpenedSoFar {
  private readonly closings: Array<() => unknown> = [];

  /** Adds `closing`, to run when the start fails after this point. */
  onUndo(closing: () => unknown): void {
    this.closings.push(closing);
  }

  /** Adds `it.close()` and returns `it`: `const store = opened.add(openStore())`. */
  add<T extends Closable>(it: T): T {
    this.onUndo(() => it.close());
    return it;
  }

  /**
   * Waits for all of `opening` (opened side by side) and adds each one that opened, in the order given; then
   * throws the first failure, if any. Unlike Promise.all, it does not throw before the others have settled:
   * one still opening when undo() ran would stay open.
   */
  async all<const T extends readonly Promise<Closable>[]>(
    opening: T,
  ): Promise<{ -readonly [K in keyof T]: Awaited<T[K]> }> {
    const settled = await Promise.allSettled(opening);
    for (const result of settled) if (result.status === 'fulfilled') this.add(result.value);
    const failed = settled.find((result) => result.status === 'rejected');
    if (failed !== undefined) throw failed.reason;
    return settled.map((result) => (result as PromiseFulfilledResult<Closable>).value) as {
      -readonly [K in keyof T]: Awaited<T[K]>;
    };
  }

  /** Runs the closings last to first, each after the previous settled; failures are swallowed (see the class). */
  async undo(): Promise<void> {
    for (const closing of this.closings.splice(0).reverse()) {
      try {
        await closing();
      } catch {
        // The start's own error is the one to report.
      }
    }
  }
}

/**
 * Runs `start` with an OpenedSoFar; if it throws, undoes what it had opened (last to first) and rethrows its
 * error. What a successful start opened is its own `close()`'s to close: it is not undone.
 */
export async function undoOnFailure<T>(start: (opened: OpenedSoFar) => Promise<T>): Promise<T> {
  const opened = new OpenedSoFar();
  try {
    return await start(opened);
  } catch (error) {
    await opened.undo();
    throw error;
  }
}
