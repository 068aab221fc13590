import type { NewEvent } from '@arbor/application';
import { eventChainConformance, eventStoreConformance, newEvent as ev, type EventChainHarness } from '@arbor/testing';
import Database from 'better-sqlite3';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { verifyEventChain } from '@arbor/application';
import { applyMigrations } from './apply-migrations';
import { EVENT_STORE_MIGRATIONS } from './event-store-schema';
import { openSqliteEventStore, type SqliteEventStore } from './sqlite-event-store';
import { filesHolding } from './at-rest.test-support';

describe('SqliteEventStore (conformance)', () => {
  let dir: string;
  let file: string;
  const harness: EventChainHarness = {
    open: async () => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'arbor-events-'));
      file = path.join(dir, 'events.sqlite');
      return openSqliteEventStore(file);
    },
    reopen: async () => openSqliteEventStore(file),
    setOccurredAt: async (position, at) => {
      const raw = new Database(file);
      try {
        raw.prepare('UPDATE events SET occurred_at = ? WHERE position = ?').run(at, position);
      } finally {
        raw.close();
      }
    },
    tamper: async (sql) => {
      const raw = new Database(file);
      try {
        raw.pragma('foreign_keys = OFF');
        raw.exec(sql);
      } finally {
        raw.close();
      }
    },
    bytes: (hex) => `X'${hex}'`,
    release: async () => fs.rmSync(dir, { recursive: true, force: true, maxRetries: 5 }),
  };
  eventStoreConformance(harness);
  describe('hash chain', () => eventChainConformance(harness));
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
    fs.rmSync(dir, { recursive: true, force: true, maxRetries: 5 });
  });

  const append = (streamId: string, events: NewEvent[], expected: number | 'no_stream' | 'any' = 'any') =>
    store.transaction((tx) => tx.append(streamId, events, expected));

  it('names an event whose JSON columns were edited into text that is not JSON: altered in the chain, by position in reads', async () => {
    for (let i = 1; i <= 8; i++) await append(`s${i}`, [ev('E', { i }, ['org_a'])], 'no_stream');
    const read = (after: number, limit: number) => store.readChainLinks(after, limit);
    const positions = (await store.readAll({ limit: 100 })).map((e) => e.position);
    for (const [column, value] of [
      ['data', 'not json'],
      ['org_path', '{'],
      ['request_metadata', '{"requestId":'],
    ] as const) {
      const at = positions[5];
      const raw = new Database(file);
      const before = raw.prepare(`SELECT ${column} AS v FROM events WHERE position = ?`).get(at) as { v: unknown };
      raw.prepare(`UPDATE events SET ${column} = ? WHERE position = ?`).run(value, at);
      raw.close();
      expect(await verifyEventChain(read, { pageSize: 3 })).toMatchObject({
        valid: false,
        events: 5,
        firstBreak: { kind: 'altered', position: at, detail: expect.stringContaining(`its ${column} is not JSON`) },
      });
      // Every other read of the log fails naming the event, not with the JSON parser's words alone.
      await expect(store.readAll({ limit: 100 })).rejects.toThrow(
        `The event at position ${at} cannot be read: its ${column} is not JSON`,
      );
      const restore = new Database(file);
      restore.prepare(`UPDATE events SET ${column} = ? WHERE position = ?`).run(before.v, at);
      restore.close();
      expect(await verifyEventChain(read, { pageSize: 3 })).toMatchObject({ valid: true, events: 8 });
    }
  });

  it('chains the events of a log written before the chain once, in the migration that brings it', async () => {
    // A log at schema version 2, as code before the chain wrote it.
    const old = path.join(dir, 'old.sqlite');
    const raw = new Database(old);
    applyMigrations(raw, EVENT_STORE_MIGRATIONS.slice(0, 2));
    const insert = raw.prepare(
      `INSERT INTO events (id, stream_id, stream_version, type, occurred_at, actor_type, actor_id, data, org_path)
       VALUES (?, ?, ?, 'OrgCreated', '2026-01-01T00:00:00.000Z', 'user', 'usr_1', ?, '[]')`,
    );
    for (let i = 1; i <= 5; i++)
      insert.run(`00000000-0000-4000-8000-00000000000${i}`, `s${i % 2}`, Math.ceil(i / 2), `{"n":${i}}`);
    raw.close();
    const migrated = openSqliteEventStore(old);
    try {
      const read = (after: number, limit: number) => migrated.readChainLinks(after, limit);
      expect(await verifyEventChain(read)).toMatchObject({ valid: true, events: 5 });
      await migrated.transaction((tx) => tx.append('s9', [ev('A')], 'no_stream'));
      expect(await verifyEventChain(read)).toMatchObject({ valid: true, events: 6 });
    } finally {
      await migrated.close();
    }
  });

  it('gives strictly increasing, gap-free positions', async () => {
    for (let i = 0; i < 20; i++) await append(`s${i % 3}`, [ev('A'), ev('B')]);
    const all = await store.readAll({ limit: 1000 });
    expect(all.map((e) => e.position)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
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
    expect(results.map((r) => r.status)).toEqual(
      Array.from({ length: 12 }, (_, i) => (i % 4 === 1 ? 'rejected' : 'fulfilled')),
    );
    const streams = (await store.readAll({ limit: 100 })).map((e) => e.streamId);
    expect(streams).toEqual(
      Array.from({ length: 12 }, (_, i) => i)
        .filter((i) => i % 4 !== 1)
        .map((i) => `g-${i}`),
    );
    const positions = (await store.readAll({ limit: 100 })).map((e) => e.position);
    expect(positions).toEqual([...positions].sort((a, b) => a - b));
  });

  // The writer keeps the log's end in memory (log-tail.ts): what another process appends in between must still be read
  // by the next transaction and chained onto, and a rolled-back append must not stay the end. (A time stamped ahead
  // by another connection: the conformance suite's 'never go back' test.)
  it('sees and chains onto what another process appended between two of its transactions', async () => {
    const second = openSqliteEventStore(file);
    try {
      await append('s', [ev('A')], 'no_stream');
      await second.transaction((tx) => tx.append('other', [ev('B')], 'no_stream'));
      const seen = await store.transaction(async (tx) => {
        const after = (await tx.readAll(1, 10)).map((e) => e.streamId);
        const appended = await tx.append('s', [ev('C')], 1);
        return { after, appended };
      });
      expect(seen.after).toEqual(['other']);
      expect(seen.appended).toMatchObject({ ok: true, lastPosition: 3 });
      // Rolled back after its append, in a group with others: the end goes back with it.
      const group = await Promise.allSettled([
        store.transaction((tx) => tx.append('g1', [ev('G1')], 'no_stream')),
        store.transaction(async (tx) => {
          await tx.append('g2', [ev('G2')], 'no_stream');
          throw new Error('rolled back');
        }),
        store.transaction(async (tx) => ({
          tail: (await tx.readAll(4, 10)).length,
          r: await tx.append('g3', [ev('G3')], 'no_stream'),
        })),
      ]);
      expect(group.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
      expect(group[2]).toMatchObject({ value: { tail: 0, r: { ok: true, lastPosition: 5 } } });
      expect(await second.transaction((tx) => tx.readAll(3, 10))).toEqual([
        expect.objectContaining({ streamId: 'g1', position: 4 }),
        expect.objectContaining({ streamId: 'g3', position: 5 }),
      ]);
      expect(await verifyEventChain((after, limit) => store.readChainLinks(after, limit))).toMatchObject({
        valid: true,
        events: 5,
      });
    } finally {
      await second.close();
    }
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

describe('SqliteEventStore retention at rest', () => {
  /** A store in a fresh directory, and whether `marker` is in any of its files (database, WAL, shared memory). */
  const storeOnDisk = () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'arbor-retention-'));
    const file = path.join(dir, 'events.sqlite');
    const onDisk = (marker: string) => filesHolding(dir, marker, 'events.sqlite').length > 0;
    return { dir, file, store: openSqliteEventStore(file), onDisk };
  };

  it('leaves no copy of dropped request metadata in the database or its WAL', async () => {
    const { dir, store, onDisk: onDiskOf } = storeOnDisk();
    try {
      const marker = 'retained-address-203.0.113.250';
      const metadata = { requestId: 'req-retained', sourceAddress: marker, userAgent: `ua ${marker}` };
      await store.transaction((tx) =>
        tx.append('r', [{ ...ev('R1', { n: 1 }), requestMetadata: metadata }], 'no_stream'),
      );
      const onDisk = () => onDiskOf(marker);
      expect(onDisk()).toBe(true);
      expect(await store.dropRequestMetadata(new Date(Date.now() + 60_000).toISOString())).toBe(1);
      expect(onDisk()).toBe(false);
    } finally {
      await store.close();
      fs.rmSync(dir, { recursive: true, force: true, maxRetries: 5 });
    }
  });

  it('empties the WAL once a reader in another connection (an HTTP worker) stops reading, while writes go on', async () => {
    const { dir, file, store, onDisk: onDiskOf } = storeOnDisk();
    const reader = new Database(file, { readonly: true });
    try {
      const marker = 'retained-address-198.51.100.77';
      const metadata = { requestId: 'req-held', sourceAddress: marker, userAgent: `ua ${marker}` };
      await store.transaction((tx) =>
        tx.append('h', [{ ...ev('H1', { n: 1 }), requestMetadata: metadata }], 'no_stream'),
      );
      const onDisk = () => onDiskOf(marker);
      reader.exec('BEGIN');
      reader.prepare('SELECT count(*) FROM events').get();
      const dropping = store.dropRequestMetadata(new Date(Date.now() + 60_000).toISOString());
      // The truncation waits between attempts with the store's lock free: a write goes through meanwhile.
      await store.transaction((tx) => tx.append('other', [ev('O1', { n: 2 })], 'no_stream'));
      expect(onDisk()).toBe(true);
      reader.exec('COMMIT');
      expect(await dropping).toBe(1);
      await store.walEmptied();
      expect(onDisk()).toBe(false);
    } finally {
      reader.close();
      await store.close();
      fs.rmSync(dir, { recursive: true, force: true, maxRetries: 5 });
    }
  });
});
