import { AsyncLocalStorage } from 'node:async_hooks';
import { setImmediate as tick } from 'node:timers/promises';
import { TransactionScope } from './transaction-scope';

describe('TransactionScope', () => {
  it('is inside only in the async context of a running callback', async () => {
    const scope = new TransactionScope();
    const seen: boolean[] = [];
    expect(scope.isInside()).toBe(false);
    await scope.run(async () => {
      seen.push(scope.isInside());
      await tick();
      seen.push(scope.isInside());
      await Promise.all([tick().then(() => seen.push(scope.isInside()))]);
    });
    expect(seen).toEqual([true, true, true]);
    expect(scope.isInside()).toBe(false);
  });

  it('keeps callers outside while a callback runs concurrently, and knows how many run', async () => {
    const scope = new TransactionScope();
    let release!: () => void;
    const running = scope.run(() => new Promise<void>((resolve) => (release = resolve)));
    expect(scope.size).toBe(1);
    await tick();
    expect(scope.isInside()).toBe(false);
    release();
    await running;
    expect(scope.size).toBe(0);
  });

  it('sees false in a continuation left behind by a settled callback, also after the scope runs again', async () => {
    const scope = new TransactionScope();
    let later!: () => boolean;
    let check!: Promise<boolean>;
    let go!: () => void;
    await scope.run(async () => {
      later = () => scope.isInside();
      check = new Promise<void>((resolve) => (go = resolve)).then(() => scope.isInside());
    });
    let inSecond = false;
    await scope.run(async () => {
      inSecond = scope.isInside();
      go();
    });
    expect(inSecond).toBe(true);
    expect(await check).toBe(false);
    expect(later()).toBe(false);
  });

  it('settles with the callback: its value, or its error', async () => {
    const scope = new TransactionScope();
    await expect(scope.run(async () => 42)).resolves.toBe(42);
    await expect(scope.run(async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(scope.size).toBe(0);
    expect(scope.isInside()).toBe(false);
  });

  it('leaves other async-local storages of the process working when it turns its own off', async () => {
    const other = new AsyncLocalStorage<string>();
    const scope = new TransactionScope();
    await other.run('outer', async () => {
      await scope.run(async () => undefined);
      await tick();
      expect(other.getStore()).toBe('outer');
    });
  });
});
