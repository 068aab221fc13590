/**
 * A promise-chain mutex: each `run` starts after the previous one has settled, in call order. The chain
 * continues whether `fn` resolves or rejects, so a failing holder always releases the lock; a holder that
 * never settles blocks every later caller (there is no timeout).
 */
export class AsyncMutex {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(fn: () => Promise<T> | T): Promise<T> {
    const result = this.tail.then(() => fn());
    this.tail = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }
}
