import type { EventQuery, EventStore, EventStoreTransaction, NewEvent } from '@arbor/application';

type OpenStore = EventStore & { close(): Promise<void> };

/** An event store adapter under test: each engine's spec says how to open it. */
export interface EventStoreHarness {
  /** A store over an empty log; called before each test. */
  open(): Promise<OpenStore>;
  /** The same log opened again (after the suite closed the store it had). */
  reopen(): Promise<OpenStore>;
  /** Rewrites an event's `occurred_at` behind the store's back, for tests that need known instants. */
  setOccurredAt(position: number, at: string): Promise<void>;
  /** After each test, once the store is closed (remove files, drop schemas). */
  release(): Promise<void>;
}

export const newEvent = (type: string, data: unknown = {}, orgPath: string[] = [], actorId = 'usr_1'): NewEvent => ({
  type,
  data,
  actor: { type: 'user', id: actorId },
  orgPath,
});

/**
 * What every `EventStore` adapter must do, as Jest tests: call it inside the adapter's `describe`. What
 * differs by engine stays in the adapter's spec: whether a rolled-back append leaves a gap in positions, how
 * group commit fails, several processes on one file or schema.
 */
export function eventStoreConformance(harness: EventStoreHarness): void {
  const ev = newEvent;
  let store: OpenStore;
  beforeEach(async () => {
    store = await harness.open();
  });
  afterEach(async () => {
    await store.close();
    await harness.release();
  });

  const append = (streamId: string, events: NewEvent[], expected: number | 'no_stream' | 'any' = 'any') =>
    store.transaction((tx) => tx.append(streamId, events, expected));

  it('appends events and reads them back by stream and by position', async () => {
    const result = await append(
      'org-a',
      [ev('OrgCreated', { orgId: 'a' }, ['a']), ev('OrgUpdated', { n: 1 }, ['a'])],
      'no_stream',
    );
    if (!result.ok) throw new Error('conflict');
    expect(result.streamVersion).toBe(2);
    expect(result.lastPosition).toBe(2);
    expect(result.events.map((e) => [e.streamVersion, e.position])).toEqual([
      [1, 1],
      [2, 2],
    ]);
    await append('org-b', [ev('OrgCreated', { orgId: 'b' }, ['b'])]);

    const stream = await store.readStream('org-a');
    expect(stream).toEqual(result.events);
    expect(stream[0]).toMatchObject({
      type: 'OrgCreated',
      streamId: 'org-a',
      actor: { type: 'user', id: 'usr_1' },
      data: { orgId: 'a' },
      orgPath: ['a'],
    });
    expect(stream[0].id).toMatch(/^[0-9a-f-]{36}$/);
    expect(new Date(stream[0].occurredAt).toISOString()).toBe(stream[0].occurredAt);

    expect((await store.readAll({ after: 0, limit: 10 })).map((e) => e.streamId)).toEqual(['org-a', 'org-a', 'org-b']);
    expect((await store.readAll({ after: 1, limit: 1 })).map((e) => e.position)).toEqual([2]);
    expect(await store.headPosition()).toBe(3);
  });

  it('refuses an append whose expected version does not match, and writes nothing', async () => {
    await append('s', [ev('A'), ev('B')], 'no_stream');
    expect(await append('s', [ev('C')], 'no_stream')).toEqual({
      ok: false,
      error: 'IAM_ERR_VERSION_CONFLICT',
      streamId: 's',
      expected: 'no_stream',
      actual: 2,
    });
    expect(await append('s', [ev('C')], 1)).toEqual({
      ok: false,
      error: 'IAM_ERR_VERSION_CONFLICT',
      streamId: 's',
      expected: 1,
      actual: 2,
    });
    expect(await append('other', [ev('C')], 3)).toMatchObject({ ok: false, actual: 0 });
    expect(await store.headPosition()).toBe(2);
    expect(await append('s', [ev('C')], 2)).toMatchObject({ ok: true, streamVersion: 3, lastPosition: 3 });
  });

  it('serialises 50 concurrent read-then-append transactions', async () => {
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        store.transaction(async (tx) => {
          const version = (await tx.readStream('counter')).length;
          await new Promise((r) => setImmediate(r)); // yield: other transactions must still wait
          return tx.append('counter', [ev('Tick', { i })], version === 0 ? 'no_stream' : version);
        }),
      ),
    );
    expect(results.every((r) => r.ok)).toBe(true);
    const versions = (await store.readStream('counter')).map((e) => e.streamVersion);
    expect(versions).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    const is = (await store.readStream('counter')).map((e) => (e.data as { i: number }).i);
    expect(new Set(is).size).toBe(50);
  });

  it('gives every event a UUIDv7 id (RFC 9562) that sorts as its position does, within a group and across groups', async () => {
    // Time-ordered ids keep the unique index on ids appending at its end (one page per commit), where random
    // ones land on a page of their own each. Concurrent transactions share group commits; awaited ones do not.
    await Promise.all(Array.from({ length: 30 }, (_, i) => append(`s-${i}`, [ev('Tick'), ev('Tock')])));
    for (let i = 0; i < 5; i++) await append('later', [ev('Tick')]);
    const events = await store.readAll({ after: 0, limit: 100 });
    expect(events).toHaveLength(65);
    for (const e of events)
      expect(e.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const ids = events.map((e) => e.id);
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
    // The id's first 48 bits are the milliseconds of its making, which the stored time (stamped in write order)
    // never precedes by more than the store's clock step.
    const millisOf = (id: string) => parseInt(id.replace(/-/g, '').slice(0, 12), 16);
    for (const e of events) expect(Math.abs(millisOf(e.id) - Date.parse(e.occurredAt))).toBeLessThan(60_000);
  });

  it('lets exactly one of two transactions with the same expected version win', async () => {
    await append('s', [ev('A')]);
    const [a, b] = await Promise.all([append('s', [ev('B')], 1), append('s', [ev('C')], 1)]);
    expect([a.ok, b.ok].sort()).toEqual([false, true]);
    expect((await store.readStream('s')).length).toBe(2);
  });

  it('does not show uncommitted events to readers, but shows them inside the transaction', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let appended!: () => void;
    const appendedSignal = new Promise<void>((r) => (appended = r));
    const running = store.transaction(async (tx) => {
      await tx.append('s', [ev('A')], 'no_stream');
      expect((await tx.readStream('s')).length).toBe(1);
      expect((await tx.readAll(0, 10)).length).toBe(1);
      appended();
      await gate;
    });
    await appendedSignal;
    try {
      expect(await store.readStream('s')).toEqual([]);
      expect(await store.readAll({ limit: 10 })).toEqual([]);
      expect(await store.headPosition()).toBe(0);
    } finally {
      release();
      await running;
    }
    expect((await store.readStream('s')).length).toBe(1);
  });

  it('rejects nested transactions and a transaction handle used after its end', async () => {
    let leaked: EventStoreTransaction | undefined;
    await expect(
      store.transaction(async (tx) => {
        leaked = tx;
        await store.transaction(async () => undefined);
      }),
    ).rejects.toThrow(/nested/);
    await expect(leaked!.append('s', [ev('A')], 'any')).rejects.toThrow(/ended/);
    await expect(
      store.transaction(() => store.completeIdempotency('s', 'k', { status: 200, headers: {}, body: null })),
    ).rejects.toThrow(/nested/);
    expect(await store.headPosition()).toBe(0);
  });

  it('filters by types, stream, organization, actor and time', async () => {
    await append('org-root', [ev('OrgCreated', {}, ['root'], 'usr_1')]);
    await append('org-child', [ev('OrgCreated', {}, ['root', 'child'], 'usr_2')]);
    await append('org-other', [ev('OrgCreated', {}, ['other'], 'usr_1')]);
    await append('org-child', [ev('OrgUpdated', {}, ['root', 'child'], 'usr_1')]);
    await append('user-1', [ev('UserCreated', {}, [], 'usr_2')]);
    const positions = async (q: Omit<EventQuery, 'limit'>) =>
      (await store.readAll({ limit: 100, ...q })).map((e) => e.position);

    expect(await positions({ types: ['OrgUpdated', 'UserCreated'] })).toEqual([4, 5]);
    expect(await positions({ types: ['OrgUpdated'] })).toEqual([4]);
    expect(await positions({ types: [] })).toEqual([]);
    expect(await positions({ streamId: 'org-child' })).toEqual([2, 4]);
    expect(await positions({ orgId: 'root' })).toEqual([1, 2, 4]);
    expect(await positions({ orgId: 'root', after: 1 })).toEqual([2, 4]);
    expect(await positions({ orgId: 'child' })).toEqual([2, 4]);
    expect(await positions({ actorId: 'usr_2' })).toEqual([2, 5]);
    expect(await positions({ actorId: 'usr_1', types: ['OrgCreated'], orgId: 'root' })).toEqual([1]);
    expect((await store.readAll({ orgId: 'root', limit: 2 })).map((e) => e.position)).toEqual([1, 2]);
    // Both organizations at once (a tenant's own subtree beside the organization it asks about).
    expect(await positions({ orgId: 'child', withinOrg: 'root' })).toEqual([2, 4]);
    expect(await positions({ orgId: 'child', withinOrg: 'other' })).toEqual([]);
    expect(await positions({ withinOrg: 'other' })).toEqual([3]);

    const all = await store.readAll({ limit: 100 });
    const t = all[1].occurredAt;
    expect(await positions({ since: t, until: t })).toEqual(
      all.filter((e) => e.occurredAt === t).map((e) => e.position),
    );
    expect(await positions({ since: '2999-01-01T00:00:00Z' })).toEqual([]);
    expect(await positions({ until: '2000-01-01T00:00:00Z' })).toEqual([]);
    expect(await positions({ since: '2000-01-01T00:00:00Z', until: '2999-01-01T00:00:00Z' })).toEqual([1, 2, 3, 4, 5]);
  });

  it('filters by time on exact, inclusive bounds', async () => {
    // occurred_at is set by the store: rewrite it through another connection to get known instants.
    await append('s', [ev('A')]);
    await append('s', [ev('B')]);
    await append('s', [ev('C')]);
    await harness.setOccurredAt(1, '2024-01-01T10:00:00.000Z');
    await harness.setOccurredAt(2, '2024-01-01T11:00:00.000Z');
    await harness.setOccurredAt(3, '2024-01-01T12:00:00.000Z');
    const positions = async (since?: string, until?: string) =>
      (await store.readAll({ limit: 10, since, until })).map((e) => e.position);
    expect(await positions('2024-01-01T11:00:00.000Z')).toEqual([2, 3]);
    expect(await positions('2024-01-01T11:00:00Z')).toEqual([2, 3]);
    expect(await positions(undefined, '2024-01-01T11:00:00Z')).toEqual([1, 2]);
    expect(await positions('2024-01-01T10:30:00Z', '2024-01-01T13:00:00+02:00')).toEqual([2]);
    expect((await store.readAll({ limit: 1 }))[0].occurredAt).toBe('2024-01-01T10:00:00.000Z');
  });

  it('stamps event times that never go back, whatever the clock of the writer says', async () => {
    // The last event written by a writer whose clock ran ahead (set through another connection): the next
    // append, by a clock that is now behind it, is stamped no earlier, so times grow with positions.
    await append('s', [ev('A')]);
    await harness.setOccurredAt(1, '2999-01-01T00:00:00.000Z');
    const appended = await append('s', [ev('B'), ev('C')]);
    expect(appended).toMatchObject({ ok: true });
    const all = await store.readAll({ limit: 10 });
    expect(all.map((e) => e.occurredAt)).toEqual([
      '2999-01-01T00:00:00.000Z',
      '2999-01-01T00:00:00.000Z',
      '2999-01-01T00:00:00.000Z',
    ]);
    // The append answers the time it stamped, as the log holds it.
    if (appended.ok) expect(appended.events.map((e) => e.occurredAt)).toEqual(all.slice(1).map((e) => e.occurredAt));
  });

  it('takes a write probe (readiness) that leaves the log and its positions as they were', async () => {
    await append('probe', [ev('A', { x: 1 }, ['o'])]);
    const before = await store.readAll({ after: 0, limit: 10 });
    await Promise.all([store.probeWrite(), store.probeWrite(), append('probe', [ev('A', { x: 2 }, ['o'])])]);
    await store.probeWrite();
    const after = await store.readAll({ after: 0, limit: 10 });
    expect(after.slice(0, 1)).toEqual(before);
    expect(after.map((e) => e.data)).toEqual([{ x: 1 }, { x: 2 }]);
    const next = await append('probe', [ev('A', { x: 3 }, ['o'])]);
    if (!next.ok) throw new Error('conflict');
    expect(next.lastPosition).toBeGreaterThan(after[1].position);
    expect(await store.findIdempotency('arbor:write-probe', 'anything')).toBeUndefined();
  });

  it('saves, finds and completes idempotency records', async () => {
    const record = { scope: 'usr_1', key: 'k1', requestHash: 'h1', createdAt: '2024-01-01T00:00:00.000Z' };
    await store.transaction(async (tx) => {
      expect(await tx.findIdempotency('usr_1', 'k1')).toBeUndefined();
      await tx.saveIdempotency(record);
      expect(await tx.findIdempotency('usr_1', 'k1')).toEqual(record);
    });
    expect(await store.findIdempotency('usr_1', 'k1')).toEqual(record);
    expect(await store.findIdempotency('usr_2', 'k1')).toBeUndefined();

    // A rolled-back save leaves the first record as it was.
    await expect(
      store.transaction(async (tx) => {
        await tx.saveIdempotency({ ...record, requestHash: 'h2' });
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    expect((await store.findIdempotency('usr_1', 'k1'))?.requestHash).toBe('h1');

    const response = { status: 201, headers: { etag: '"1"' }, body: { id: 'org_1' }, position: 7 };
    await store.completeIdempotency('usr_1', 'k1', response);
    expect(await store.findIdempotency('usr_1', 'k1')).toEqual({ ...record, response });
    // Completing a record that was never committed leaves it absent.
    await store.completeIdempotency('usr_1', 'missing', response);
    expect(await store.findIdempotency('usr_1', 'missing')).toBeUndefined();

    // Saving again (after the command side found the old record expired) replaces it.
    const renewed = { ...record, requestHash: 'h3', createdAt: '2024-01-03T00:00:00.000Z' };
    await store.transaction((tx) => tx.saveIdempotency(renewed));
    expect(await store.findIdempotency('usr_1', 'k1')).toEqual(renewed);
  });

  it("keeps a completed record's response as written: members in their order (a replay's bytes match its ETag)", async () => {
    const record = { scope: 'usr_1', key: 'order', requestHash: 'h', createdAt: '2024-01-01T00:00:00.000Z' };
    await store.transaction((tx) => tx.saveIdempotency(record));
    // Longer names first and out of byte order: jsonb would store them sorted by length, then bytes.
    const body = { parentId: null, name: 'Acme', id: 'org_1', metadata: { zeta: 1, alpha: { yy: 2, x: 3 } } };
    const response = { status: 201, headers: { etag: '"e"', location: '/x' }, body, position: 7 };
    await store.completeIdempotency('usr_1', 'order', response);
    const found = await store.findIdempotency('usr_1', 'order');
    expect(JSON.stringify(found?.response)).toBe(JSON.stringify(response));
  });

  it('keeps everything across close and reopen', async () => {
    await append('s', [ev('A', { x: 1 }, ['o'])]);
    await store.transaction((tx) => tx.saveIdempotency({ scope: 's', key: 'k', requestHash: 'h', createdAt: 't' }));
    await store.close();
    await expect(store.headPosition()).rejects.toThrow(/closed/);

    store = await harness.reopen();
    expect(await store.headPosition()).toBe(1);
    expect((await store.readAll({ orgId: 'o', limit: 10 }))[0].data).toEqual({ x: 1 });
    expect(await store.findIdempotency('s', 'k')).toMatchObject({ requestHash: 'h' });
    expect(await append('s', [ev('B')], 1)).toMatchObject({ ok: true, lastPosition: 2 });
  });

  it('refuses a read without a whole, positive limit', async () => {
    await append('s', [ev('A')]);
    for (const limit of [undefined, 0, -1, 1.5, Number.NaN, '10']) {
      await expect(store.readAll({ limit } as unknown as EventQuery)).rejects.toThrow('needs a whole, positive limit');
    }
    expect(await store.readAll({ limit: 1 })).toHaveLength(1);
  });
}
