import type { WebhookAttempt, WebhookDeliveryStore } from '@arbor/application';

/** A delivery store adapter under test: each engine's spec says how to open it. */
export interface WebhookDeliveryStoreHarness {
  /** A store over empty storage; called before each test. */
  open(): Promise<WebhookDeliveryStore>;
  /** The same storage opened again (another connection, or the same one after a close). */
  reopen(): Promise<WebhookDeliveryStore>;
}

const attempt = (over: Partial<WebhookAttempt> = {}): Omit<WebhookAttempt, 'attemptId'> => ({
  subscriptionId: 'whk_a',
  eventId: 'evt_1',
  eventType: 'OrgCreated',
  position: 7,
  attempt: 1,
  attemptedAt: '2026-12-01T10:00:00.000Z',
  outcome: 'failed',
  httpStatus: 500,
  error: 'HTTP 500',
  durationMs: 12,
  ...over,
});

/** What every `WebhookDeliveryStore` adapter must do, as Jest tests: call it inside the adapter's `describe`. */
export function webhookDeliveryStoreConformance(harness: WebhookDeliveryStoreHarness): void {
  let store: WebhookDeliveryStore;
  beforeEach(async () => {
    store = await harness.open();
  });
  afterEach(async () => {
    await store.close();
  });

  it('keeps a cursor per subscription, replaces it, survives a reopen and forgets it on dropCursor', async () => {
    expect(await store.cursor('whk_a')).toBeUndefined();
    const cursor = { subscriptionId: 'whk_a', position: 3, failures: 0, nextAttemptAt: null, replayedAt: 0 };
    await store.saveCursor(cursor);
    const later = { ...cursor, position: 9, failures: 2, nextAttemptAt: '2026-12-01T10:00:05.000Z', replayedAt: 4 };
    await store.saveCursor(later);
    await store.saveCursor({ ...cursor, subscriptionId: 'whk_b' });
    const other = await harness.reopen();
    try {
      expect(await other.cursor('whk_a')).toEqual(later);
      expect(await other.cursor('whk_b')).toEqual({ ...cursor, subscriptionId: 'whk_b' });
    } finally {
      await other.close();
    }
    expect(await store.cursorIds()).toEqual(['whk_a', 'whk_b']);
    await store.dropCursor('whk_a');
    expect(await store.cursor('whk_a')).toBeUndefined();
    expect(await store.cursor('whk_b')).toBeDefined();
    expect(await store.cursorIds()).toEqual(['whk_b']);
  });

  it('logs attempts in order with the cursor, lists them newest first by subscription and page, and purges old ones', async () => {
    const cursor = { subscriptionId: 'whk_a', position: 7, failures: 1, nextAttemptAt: null, replayedAt: 0 };
    await store.saveProgress(cursor, [
      attempt(),
      attempt({ attempt: 2, outcome: 'delivered', httpStatus: 204, error: null, durationMs: 3.6 }),
    ]);
    await store.saveProgress({ ...cursor, subscriptionId: 'whk_b' }, [attempt({ subscriptionId: 'whk_b' })]);
    const later = { ...cursor, position: 8, failures: 0 };
    await store.saveProgress(later, [
      attempt({ position: 8, eventId: 'evt_2', attemptedAt: '2026-12-02T00:00:00.000Z' }),
    ]);
    await store.saveProgress({ ...later, position: 9 }, []);
    expect(await store.cursor('whk_a')).toEqual({ ...later, position: 9 });
    const all = await store.attempts('whk_a', { limit: 10 });
    const [third, second, first] = all;
    expect(all.map((a) => [a.position, a.attempt, a.outcome, a.httpStatus, a.error, a.durationMs])).toEqual([
      [8, 1, 'failed', 500, 'HTTP 500', 12],
      [7, 2, 'delivered', 204, null, 4],
      [7, 1, 'failed', 500, 'HTTP 500', 12],
    ]);
    expect(third.attemptId).toBeGreaterThan(second.attemptId);
    expect(second.attemptId).toBeGreaterThan(first.attemptId);
    expect(first).toEqual({ ...attempt(), attemptId: first.attemptId });
    expect(await store.attempts('whk_a', { limit: 2 })).toEqual([third, second]);
    expect(await store.attempts('whk_a', { limit: 2, before: second.attemptId })).toEqual([first]);
    expect(await store.attempts('whk_none', { limit: 2 })).toEqual([]);
    expect(await store.purgeAttempts('2026-12-01T12:00:00.000Z')).toBe(3);
    expect(await store.attempts('whk_a', { limit: 10 })).toEqual([third]);
  });

  it('gives the lease to one owner at a time, renews it for its holder, and hands it over once it expired', async () => {
    expect(await store.lease('one', 60_000)).toBe(true);
    expect(await store.lease('one', 60_000)).toBe(true);
    const other = await harness.reopen();
    try {
      expect(await other.lease('two', 60_000)).toBe(false);
      expect(await store.lease('one', 1)).toBe(true);
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(await other.lease('two', 60_000)).toBe(true);
      expect(await store.lease('one', 60_000)).toBe(false);
    } finally {
      await other.close();
    }
  });

  it('lets its holder give the lease up at once (a graceful stop), and nobody else', async () => {
    expect(await store.lease('one', 60_000)).toBe(true);
    const other = await harness.reopen();
    try {
      await other.releaseLease('two');
      expect(await other.lease('two', 60_000)).toBe(false);
      await store.releaseLease('one');
      expect(await other.lease('two', 60_000)).toBe(true);
      await store.releaseLease('one');
      expect(await store.lease('one', 60_000)).toBe(false);
    } finally {
      await other.close();
    }
  });
}
