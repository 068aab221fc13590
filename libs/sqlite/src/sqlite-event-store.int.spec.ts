import type { NewEvent } from '@arbor/application';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openSqliteEventStore, type SqliteEventStore } from './sqlite-event-store';

const ev = (type: string, data: unknown = {}, orgPath: string[] = [], actorId = 'usr_1'): NewEvent => ({
  type,
  data,
  actor: { type: 'user', id: actorId },
  orgPath,
});

describe('SqliteEventStore', () => {
  let dir: string;
  let file: string;
  let store: SqliteEventStore;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'arbor-events-'));
    file = path.join(dir, 'events.sqlite');
    store = openSqliteEventStore(file);
  });
  afterEach(async () => {
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const append = (streamId: string, events: NewEvent[], expected: number | 'no_stream' | 'any' = 'any') =>
    store.transaction((tx) => tx.append(streamId, events, expected));

  it('appends events and reads them back by stream and by position', async () => {
    const result = await append('org-a', [ev('OrgCreated', { orgId: 'a' }, ['a']), ev('OrgUpdated', { n: 1 }, ['a'])], 'no_stream');
    if (!result.ok) throw new Error('conflict');
    expect(result.streamVersion).toBe(2);
    expect(result.lastPosition).toBe(2);
    expect(result.events.map((e) => [e.streamVersion, e.position])).toEqual([[1, 1], [2, 2]]);
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
      ok: false, error: 'IAM_ERR_VERSION_CONFLICT', streamId: 's', expected: 'no_stream', actual: 2,
    });
    expect(await append('s', [ev('C')], 1)).toEqual({
      ok: false, error: 'IAM_ERR_VERSION_CONFLICT', streamId: 's', expected: 1, actual: 2,
    });
    expect(await append('other', [ev('C')], 3)).toMatchObject({ ok: false, actual: 0 });
    expect(await store.headPosition()).toBe(2);
    expect(await append('s', [ev('C')], 2)).toMatchObject({ ok: true, streamVersion: 3 });
  });

  it('gives strictly increasing, gap-free positions', async () => {
    for (let i = 0; i < 20; i++) await append(`s${i % 3}`, [ev('A'), ev('B')]);
    const all = await store.readAll({ limit: 1000 });
    expect(all.map((e) => e.position)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
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

  it('lets exactly one of two transactions with the same expected version win', async () => {
    await append('s', [ev('A')]);
    const [a, b] = await Promise.all([append('s', [ev('B')], 1), append('s', [ev('C')], 1)]);
    expect([a.ok, b.ok].sort()).toEqual([false, true]);
    expect((await store.readStream('s')).length).toBe(2);
  });

  it('leaves nothing behind when the work throws after appending, and releases the lock', async () => {
    await append('s', [ev('A')]);
    const failing = store.transaction(async (tx) => {
      await tx.append('s', [ev('B')], 1);
      await tx.saveIdempotency({ scope: 'x', key: 'k', requestHash: 'h', createdAt: '2024-01-01T00:00:00.000Z' });
      throw new Error('boom');
    });
    await expect(failing).rejects.toThrow('boom');
    expect(await store.headPosition()).toBe(1);
    expect((await store.readAll({ limit: 10 })).length).toBe(1);
    expect(await store.findIdempotency('x', 'k')).toBeUndefined();
    expect(await append('s', [ev('C')], 1)).toMatchObject({ ok: true, lastPosition: 2 });
  });

  it('rolls back only the failing transaction of a group that commits together', async () => {
    const results = await Promise.allSettled(
      Array.from({ length: 12 }, (_, i) =>
        store.transaction(async (tx) => {
          await tx.append(`g-${i}`, [ev(`E${i}`)], 'no_stream');
          if (i % 4 === 1) throw new Error(`fail ${i}`);
          return i;
        }),
      ),
    );
    expect(results.map((r) => r.status)).toEqual(Array.from({ length: 12 }, (_, i) => (i % 4 === 1 ? 'rejected' : 'fulfilled')));
    const streams = (await store.readAll({ limit: 100 })).map((e) => e.streamId);
    expect(streams).toEqual(Array.from({ length: 12 }, (_, i) => i).filter((i) => i % 4 !== 1).map((i) => `g-${i}`));
    const positions = (await store.readAll({ limit: 100 })).map((e) => e.position);
    expect(positions).toEqual([...positions].sort((a, b) => a - b));
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
    let leaked: Parameters<Parameters<SqliteEventStore['transaction']>[0]>[0] | undefined;
    await expect(
      store.transaction(async (tx) => {
        leaked = tx;
        await store.transaction(async () => undefined);
      }),
    ).rejects.toThrow(/nested/);
    await expect(leaked!.append('s', [ev('A')], 'any')).rejects.toThrow(/ended/);
    expect(await store.headPosition()).toBe(0);
  });

  it('filters by types, stream, organization, actor and time', async () => {
    await append('org-root', [ev('OrgCreated', {}, ['root'], 'usr_1')]);
    await append('org-child', [ev('OrgCreated', {}, ['root', 'child'], 'usr_2')]);
    await append('org-other', [ev('OrgCreated', {}, ['other'], 'usr_1')]);
    await append('org-child', [ev('OrgUpdated', {}, ['root', 'child'], 'usr_1')]);
    await append('user-1', [ev('UserCreated', {}, [], 'usr_2')]);
    const positions = async (q: Omit<Parameters<SqliteEventStore['readAll']>[0], 'limit'>) =>
      (await store.readAll({ limit: 100, ...q })).map((e) => e.position);

    expect(await positions({ types: ['OrgUpdated', 'UserCreated'] })).toEqual([4, 5]);
    expect(await positions({ types: [] })).toEqual([]);
    expect(await positions({ streamId: 'org-child' })).toEqual([2, 4]);
    expect(await positions({ orgId: 'root' })).toEqual([1, 2, 4]);
    expect(await positions({ orgId: 'root', after: 1 })).toEqual([2, 4]);
    expect(await positions({ orgId: 'child' })).toEqual([2, 4]);
    expect(await positions({ actorId: 'usr_2' })).toEqual([2, 5]);
    expect(await positions({ actorId: 'usr_1', types: ['OrgCreated'], orgId: 'root' })).toEqual([1]);
    expect((await store.readAll({ orgId: 'root', limit: 2 })).map((e) => e.position)).toEqual([1, 2]);

    const all = await store.readAll({ limit: 100 });
    const t = all[1].occurredAt;
    expect(await positions({ since: t, until: t })).toEqual(all.filter((e) => e.occurredAt === t).map((e) => e.position));
    expect(await positions({ since: '2999-01-01T00:00:00Z' })).toEqual([]);
    expect(await positions({ until: '2000-01-01T00:00:00Z' })).toEqual([]);
    expect(await positions({ since: '2000-01-01T00:00:00Z', until: '2999-01-01T00:00:00Z' })).toEqual([1, 2, 3, 4, 5]);
  });

  it('filters by time on exact, inclusive bounds', async () => {
    // occurred_at is set by the store: rewrite it through a second connection to get known instants.
    await append('s', [ev('A')]);
    await append('s', [ev('B')]);
    await append('s', [ev('C')]);
    const Database = (await import('better-sqlite3')).default;
    const raw = new Database(file);
    const set = raw.prepare('UPDATE events SET occurred_at = ? WHERE position = ?');
    set.run('2024-01-01T10:00:00.000Z', 1);
    set.run('2024-01-01T11:00:00.000Z', 2);
    set.run('2024-01-01T12:00:00.000Z', 3);
    raw.close();
    const positions = async (since?: string, until?: string) =>
      (await store.readAll({ limit: 10, since, until })).map((e) => e.position);
    expect(await positions('2024-01-01T11:00:00.000Z')).toEqual([2, 3]);
    expect(await positions('2024-01-01T11:00:00Z')).toEqual([2, 3]);
    expect(await positions(undefined, '2024-01-01T11:00:00Z')).toEqual([1, 2]);
    expect(await positions('2024-01-01T10:30:00Z', '2024-01-01T13:00:00+02:00')).toEqual([2]);
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

    const response = { status: 201, headers: { etag: '"1"' }, body: { id: 'org_1' } };
    await store.completeIdempotency('usr_1', 'k1', response);
    expect(await store.findIdempotency('usr_1', 'k1')).toEqual({ ...record, response });

    // Saving again (after the command side found the old record expired) replaces it.
    const renewed = { ...record, requestHash: 'h3', createdAt: '2024-01-03T00:00:00.000Z' };
    await store.transaction((tx) => tx.saveIdempotency(renewed));
    expect(await store.findIdempotency('usr_1', 'k1')).toEqual(renewed);
  });

  it('keeps everything across close and reopen', async () => {
    await append('s', [ev('A', { x: 1 }, ['o'])]);
    await store.transaction((tx) => tx.saveIdempotency({ scope: 's', key: 'k', requestHash: 'h', createdAt: 't' }));
    await store.close();
    await expect(store.headPosition()).rejects.toThrow(/closed/);

    store = openSqliteEventStore(file);
    expect(await store.headPosition()).toBe(1);
    expect((await store.readAll({ orgId: 'o', limit: 10 }))[0].data).toEqual({ x: 1 });
    expect(await store.findIdempotency('s', 'k')).toMatchObject({ requestHash: 'h' });
    expect(await append('s', [ev('B')], 1)).toMatchObject({ ok: true, lastPosition: 2 });
  });

  it('serialises writers of two stores (two processes) on the same file', async () => {
    const second = openSqliteEventStore(file);
    try {
      await append('s', [ev('A')]);
      const r = await second.transaction((tx) => tx.append('s', [ev('B')], 1));
      expect(r).toMatchObject({ ok: true, lastPosition: 2 });
      expect(await store.headPosition()).toBe(2);
    } finally {
      await second.close();
    }
  });
});
