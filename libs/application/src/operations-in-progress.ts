/**
 * The operations a store has begun and not yet finished, so that its `close()` can let them finish before it closes
 * its connection or pool (a login counted while a server stops, an operation of two statements between them): what
 * a closed connection would otherwise fail with "not open" or leave unanswered. The store refuses new operations
 * itself (its `closed` flag); this only remembers the running ones.
 */
export class OperationsInProgress {
  private readonly running = new Set<Promise<unknown>>();

  /** Returns `operation`, remembered until it settles. */
  track<T>(operation: Promise<T>): Promise<T> {
    this.running.add(operation);
    const forget = () => void this.running.delete(operation);
    operation.then(forget, forget);
    return operation;
  }

  /** Resolves once every operation tracked so far has settled, whether it succeeded or failed. */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.running]);
  }
}
