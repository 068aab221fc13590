import type { ThrottleStore } from '@arbor/application';

/** A throttle store adapter under test: each engine's spec says how to open it. */
export interface ThrottleStoreHarness {
  /** A store over empty storage; called before each test. */
  open(): Promise<ThrottleStore>;
  /** The same storage opened again (another connection, or the same one after a close). */
  reopen(): Promise<ThrottleStore>;
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * What every `ThrottleStore` adapter must do, as Jest tests: call it inside the adapter's `describe`. How an
 * engine deletes expired rows (purgeExpired) is the adapter spec's to check: the port cannot tell a purged
 * key from an expired one.
 */
export function throttleStoreConformance(harness: ThrottleStoreHarness): void {
  let store: ThrottleStore;
  beforeEach(async () => {
    store = await harness.open();
  });
  afterEach(async () => {
    await store.close();
  });

  it('counts points in a window that keeps its end, and gives points back', async () => {
    const first = await store.add('k', 1, 60);
    expect(first.points).toBe(1);
    expect(first.msBeforeReset).toBeGreaterThan(30_000);
    expect(first.msBeforeReset).toBeLessThanOrEqual(60_000);
    // A running window keeps its end, whatever the window asked for now.
    const second = await store.add('k', 2, 1);
    expect(second.points).toBe(3);
    expect(second.msBeforeReset).toBeGreaterThan(30_000);
    expect((await store.add('k', -1, 60)).points).toBe(2);
    // Adding nothing reads.
    expect(await store.add('k', 0, 60)).toEqual({ points: 2, msBeforeReset: expect.any(Number) });
    expect((await store.add('absent', 0, 60)).points).toBe(0);
    // Giving back to an absent key opens a window below zero.
    expect((await store.add('fresh', -1, 60)).points).toBe(-1);
  });

  it('starts again from nothing once a window has ended', async () => {
    await store.add('short', 3, 1);
    await store.add('long', 3, 60);
    await pause(1100);
    const restarted = await store.add('short', 1, 60);
    expect(restarted.points).toBe(1);
    expect(restarted.msBeforeReset).toBeGreaterThan(30_000);
    await store.purgeExpired();
    expect((await store.add('long', 0, 60)).points).toBe(3);
  });

  it('forgets a deleted key; deleting an absent key is no error', async () => {
    await store.add('k', 4, 60);
    await store.delete('k');
    await store.delete('k');
    expect((await store.add('k', 1, 60)).points).toBe(1);
  });

  it('counts atomically: concurrent adds, over two connections, each see a distinct count', async () => {
    const other = await harness.reopen();
    try {
      const counts = await Promise.all(
        Array.from({ length: 40 }, (_, i) => (i % 2 === 0 ? store : other).add('hot', 1, 60)),
      );
      expect(counts.map((c) => c.points).sort((a, b) => a - b)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
      expect((await other.add('hot', 0, 60)).points).toBe(40);
    } finally {
      await other.close();
    }
  });

  it('keeps keys of up to 255 characters exactly as given, case included', async () => {
    const long = `p:${'x'.repeat(253)}`;
    await store.add(long, 2, 60);
    await store.add('a:Key', 1, 60);
    await store.add('a:key', 5, 60);
    expect((await store.add(long, 0, 60)).points).toBe(2);
    expect((await store.add('a:Key', 0, 60)).points).toBe(1);
    expect((await store.add('a:key', 0, 60)).points).toBe(5);
  });

  it('keeps its counts when opened again (a restart forgets nothing)', async () => {
    await store.add('kept', 5, 60);
    await store.close();
    store = await harness.reopen();
    expect((await store.add('kept', 0, 60)).points).toBe(5);
  });

  it('refuses a window that is not a whole number of seconds above 0', async () => {
    for (const window of [0, -1, 1.5]) await expect(store.add('k', 1, window)).rejects.toThrow('windowSeconds');
  });
}
