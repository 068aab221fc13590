import type { NewEvent } from '@arbor/application';
import {
  describeWithEnv,
  eventChainConformance,
  eventStoreConformance,
  newEvent as ev,
  type EventChainHarness,
} from '@arbor/testing';
import type { StoredEvent } from '@arbor/domain';
import { randomBytes } from 'node:crypto';
import { verifyEventChain } from '@arbor/application';
import { Client, Pool } from 'pg';
import { eventStoreMigrations } from './event-store-schema';
import { migrateSchema } from './schema-migrations';
import { openPostgresEventStore, type PostgresEventStore } from './postgres-event-store';

// Needs a PostgreSQL: `scripts/services/postgres.sh` prints the DATABASE_URL to use (CI always sets it).
const url = process.env.DATABASE_URL;
const maybe = describeWithEnv('DATABASE_URL');

maybe('PostgresEventStore (conformance)', () => {
  let admin: Client;
  let schema: string;
  beforeAll(async () => {
    admin = new Client({ connectionString: url });
    await admin.connect();
  });
  afterAll(() => admin.end());
  const harness: EventChainHarness = {
    open: () => {
      schema = `arbor_test_${process.pid}_${randomBytes(4).toString('hex')}`;
      return openPostgresEventStore(url!, { schema, max: 4 });
    },
    reopen: () => openPostgresEventStore(url!, { schema }),
    setOccurredAt: async (position, at) => {
      await admin.query(`UPDATE "${schema}".events SET occurred_at = $1 WHERE position = $2`, [at, position]);
    },
    bytes: (hex) => `'\\x${hex}'::bytea`,
    tamper: async (sql) => {
      await admin.query(`SET search_path TO "${schema}"; ${sql}; RESET search_path`);
    },
    release: async () => {
      await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    },
  };
  eventStoreConformance(harness);
  describe('hash chain', () => eventChainConformance(harness));
});

maybe('PostgresEventStore', () => {
  let admin: Client;
  let schema: string;
  let store: PostgresEventStore;
  const extra: PostgresEventStore[] = [];

  const open = async (options: { max?: number } = {}) => {
    const s = await openPostgresEventStore(url!, { schema, ...options });
    extra.push(s);
    return s;
  };

  beforeAll(async () => {
    admin = new Client({ connectionString: url });
    await admin.connect();
  });
  afterAll(async () => {
    await admin.end();
  });
  beforeEach(async () => {
    // A fresh schema per test, dropped afterwards.
    schema = `arbor_test_${process.pid}_${randomBytes(4).toString('hex')}`;
    store = await openPostgresEventStore(url!, { schema, max: 4 });
  });
  afterEach(async () => {
    await Promise.all([store, ...extra.splice(0)].map((s) => s.close()));
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  });

  const append = (streamId: string, events: NewEvent[], expected: number | 'no_stream' | 'any' = 'any') =>
    store.transaction((tx) => tx.append(streamId, events, expected));

  it('chains the events of a log written before the chain once, in the migration that brings it', async () => {
    // A schema at migration 1, as code before the chain wrote it.
    const old = `${schema}_old`;
    const pool = new Pool({ connectionString: url, max: 1 });
    try {
      await migrateSchema(pool, old, {
        ...eventStoreMigrations('SELECT 1'),
        migrations: [eventStoreMigrations('').migrations[0]],
      });
      for (let i = 1; i <= 5; i++)
        await pool.query(
          `INSERT INTO "${old}".events (id, stream_id, stream_version, type, occurred_at, actor_type, actor_id, data, org_path)
           VALUES ($1, $2, $3, 'OrgCreated', '2026-01-01T00:00:00Z', 'user', 'usr_1', $4, '[]')`,
          [`00000000-0000-4000-8000-00000000000${i}`, `s${i % 2}`, Math.ceil(i / 2), { n: i, nested: { z: 1, a: 2 } }],
        );
    } finally {
      await pool.end();
    }
    const migrated = await openPostgresEventStore(url!, { schema: old });
    try {
      const read = (after: number, limit: number) => migrated.readChainLinks(after, limit);
      expect(await verifyEventChain(read)).toMatchObject({ valid: true, events: 5 });
      await migrated.transaction((tx) => tx.append('s9', [ev('A')], 'no_stream'));
      expect(await verifyEventChain(read)).toMatchObject({ valid: true, events: 6 });
    } finally {
      await migrated.close();
      await admin.query(`DROP SCHEMA IF EXISTS "${old}" CASCADE`);
    }
  });

  it('keeps data of any JSON shape, and an empty append is a no-op', async () => {
    const data = {
      s: 'é ✓ "quoted" \\ back {a,b} NULL',
      n: 1.5,
      big: 2 ** 53 - 1,
      nested: { list: [1, 'two', null, { three: true }] },
    };
    await append('s', [ev('A', data, ['o"1', 'o,{2}']), ev('B', null), ev('C', [1, 2]), ev('D', 'NULL')]);
    expect((await store.readStream('s')).map((e) => e.data)).toEqual([data, null, [1, 2], 'NULL']);
    expect((await store.readAll({ orgId: 'o,{2}', limit: 10 }))[0].orgPath).toEqual(['o"1', 'o,{2}']);
    expect(await append('s', [], 4)).toEqual({ ok: true, events: [], streamVersion: 4, lastPosition: 4 });
  });

  it('gives strictly increasing positions, gap-free when nothing rolls back', async () => {
    for (let i = 0; i < 20; i++) await append(`s${i % 3}`, [ev('A'), ev('B')]);
    const all = await store.readAll({ limit: 1000 });
    expect(all.map((e) => e.position)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    // Within an append, positions follow stream versions.
    for (const s of ['s0', 's1', 's2']) {
      const events = all.filter((e) => e.streamId === s);
      expect(events.map((e) => e.streamVersion)).toEqual(Array.from({ length: events.length }, (_, i) => i + 1));
    }
  });

  it('leaves nothing behind when the work throws after appending, and releases the lock', async () => {
    await append('s', [ev('A', {}, ['o'])]);
    const failing = store.transaction(async (tx) => {
      await tx.append('s', [ev('B', {}, ['o'])], 1);
      await tx.saveIdempotency({ scope: 'x', key: 'k', requestHash: 'h', createdAt: '2024-01-01T00:00:00.000Z' });
      throw new Error('boom');
    });
    await expect(failing).rejects.toThrow('boom');
    expect(await store.headPosition()).toBe(1);
    expect((await store.readAll({ limit: 10 })).length).toBe(1);
    expect((await store.readAll({ orgId: 'o', limit: 10 })).length).toBe(1);
    expect(await store.findIdempotency('x', 'k')).toBeUndefined();
    // The rolled-back append used position 2 from the sequence: the next one comes after it.
    const next = await append('s', [ev('C')], 1);
    expect(next).toMatchObject({ ok: true, streamVersion: 2 });
    expect(next.ok && next.lastPosition).toBeGreaterThan(1);
    expect((await store.readAll({ limit: 10 })).map((e) => e.type)).toEqual(['A', 'C']);
  });

  it('rolls back and throws when a statement failed even though the work swallowed the error', async () => {
    const swallowed = store.transaction(async (tx) => {
      await tx.append('s', [ev('A')], 'no_stream');
      // jsonb refuses \u0000: the statement fails and PostgreSQL aborts the transaction.
      await tx.append('s', [ev('B', { bad: 'nul\u0000' })], 1).catch(() => undefined);
      return 'done';
    });
    await expect(swallowed).rejects.toThrow(/rolled back/);
    expect(await store.headPosition()).toBe(0);
    expect(await append('s', [ev('A')], 'no_stream')).toMatchObject({ ok: true });
  });

  it('serialises writers of two stores (two processes) on the same schema', async () => {
    const second = await open();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let locked!: () => void;
    const lockedSignal = new Promise<void>((r) => (locked = r));
    const first = store.transaction(async (tx) => {
      locked();
      await gate;
      return tx.append('s', [ev('A')], 'no_stream');
    });
    await lockedSignal;
    let secondDone = false;
    const other = second.transaction((tx) => tx.append('s', [ev('B')], 1)).finally(() => (secondDone = true));
    await new Promise((r) => setTimeout(r, 200));
    expect(secondDone).toBe(false); // waiting for the first one's advisory lock
    release();
    expect(await first).toMatchObject({ ok: true, lastPosition: 1 });
    expect(await other).toMatchObject({ ok: true, lastPosition: 2 });
    expect(await store.headPosition()).toBe(2);
  });

  it('does not serialise stores on different schemas', async () => {
    const otherSchema = `${schema}_b`;
    const other = await openPostgresEventStore(url!, { schema: otherSchema });
    try {
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      const holding = store.transaction(async () => gate);
      expect(await other.transaction((tx) => tx.append('s', [ev('A')], 'no_stream'))).toMatchObject({ ok: true });
      release();
      await holding;
    } finally {
      await other.close();
      await admin.query(`DROP SCHEMA IF EXISTS "${otherSchema}" CASCADE`);
    }
  });

  it('opens concurrently without conflicts (migrations queue on the lock)', async () => {
    const fresh = `${schema}_c`;
    try {
      const stores = await Promise.all(
        Array.from({ length: 4 }, () => openPostgresEventStore(url!, { schema: fresh, max: 1 })),
      );
      await Promise.all(stores.map((s) => s.close()));
    } finally {
      await admin.query(`DROP SCHEMA IF EXISTS "${fresh}" CASCADE`);
    }
  });

  it('rejects with the connection error code when PostgreSQL is unreachable', async () => {
    const unreachable = new URL(url!);
    unreachable.port = '1';
    await expect(openPostgresEventStore(unreachable.toString(), { schema })).rejects.toMatchObject({
      code: 'ECONNREFUSED',
    });
    await expect(openPostgresEventStore(url!, { schema: 'Bad-Name' })).rejects.toThrow(/Invalid PostgreSQL schema/);
  });

  describe('group commit', () => {
    /** A gate a transaction can wait on, and the signal that it got there. */
    const gate = () => {
      let open!: () => void;
      let reached!: () => void;
      const opened = new Promise<void>((r) => (open = r));
      const reachedSignal = new Promise<void>((r) => (reached = r));
      return { open, opened, reached, reachedSignal };
    };
    const committedStreams = async () =>
      (await admin.query<{ stream_id: string }>(`SELECT stream_id FROM "${schema}".events ORDER BY position`)).rows.map(
        (r) => r.stream_id,
      );

    it('commits a group together; a failing transaction rolls back alone and only its caller gets the error', async () => {
      const last = gate();
      const settled: string[] = [];
      const calls = [
        store.transaction((tx) => tx.append('a', [ev('A', {}, ['o'])], 'no_stream')),
        store.transaction(async (tx) => {
          await tx.append('b', [ev('B', {}, ['o'])], 'no_stream');
          await tx.saveIdempotency({ scope: 's', key: 'b', requestHash: 'h', createdAt: 't' });
          throw new Error('b failed');
        }),
        store.transaction(async (tx) => {
          // jsonb refuses \u0000: the statement fails, the callback swallows it, its savepoint is aborted.
          await tx.append('c', [ev('C', { bad: 'nul\u0000' })], 'no_stream').catch(() => undefined);
          return 'c returned';
        }),
        store.transaction(async (tx) => {
          expect((await tx.readStream('a')).length).toBe(1); // the group's earlier writes, uncommitted
          expect(await tx.readStream('b')).toEqual([]); // never those rolled back to their savepoint
          expect(await tx.findIdempotency('s', 'b')).toBeUndefined();
          const result = await tx.append('d', [ev('D', {}, ['o'])], 'no_stream');
          last.reached();
          await last.opened;
          return result;
        }),
      ].map((p, i) =>
        p.then(
          () => settled.push(`ok ${i}`),
          (e: Error) => (settled.push(`error ${i}`), Promise.reject(e)),
        ),
      );
      await Promise.race([last.reachedSignal, Promise.allSettled(calls)]); // (the latter only if broken)
      // 'a' has run, but shares the COMMIT with 'd': nothing is visible or settled yet.
      await new Promise((r) => setTimeout(r, 50));
      expect(await committedStreams()).toEqual([]);
      expect(settled).toEqual([]);
      last.open();
      const [a, b, c, d] = await Promise.allSettled(calls);
      expect(a).toMatchObject({ status: 'fulfilled' });
      expect(b).toMatchObject({ status: 'rejected', reason: { message: 'b failed' } });
      expect(c).toMatchObject({ status: 'rejected', reason: { message: expect.stringMatching(/rolled back/) } });
      expect(d).toMatchObject({ status: 'fulfilled' });
      expect(await committedStreams()).toEqual(['a', 'd']);
      expect((await store.readAll({ orgId: 'o', limit: 10 })).map((e) => e.streamId)).toEqual(['a', 'd']);
      expect(await store.findIdempotency('s', 'b')).toBeUndefined();
    });

    it('answers a version conflict inside a group against the writes before it, and writes nothing for it', async () => {
      const [first, conflict, thrown, after] = await Promise.allSettled([
        store.transaction((tx) => tx.append('s', [ev('A', {}, ['o'])], 'no_stream')),
        store.transaction((tx) => tx.append('s', [ev('B', {}, ['o'])], 'no_stream')),
        store.transaction(async (tx) => {
          const result = await tx.append('s', [ev('C')], 0);
          if (!result.ok) throw new Error(`conflict at ${result.actual}`); // as the command side does
        }),
        store.transaction((tx) => tx.append('s', [ev('D', {}, ['o']), ev('E')], 1)),
      ]);
      expect(first).toMatchObject({ status: 'fulfilled', value: { ok: true, streamVersion: 1 } });
      expect(conflict).toEqual({
        status: 'fulfilled',
        value: { ok: false, error: 'IAM_ERR_VERSION_CONFLICT', streamId: 's', expected: 'no_stream', actual: 1 },
      });
      expect(thrown).toMatchObject({ status: 'rejected', reason: { message: 'conflict at 1' } });
      expect(after).toMatchObject({ status: 'fulfilled', value: { ok: true, streamVersion: 3 } });
      const stream = await store.readStream('s');
      expect(stream.map((e) => [e.type, e.streamVersion])).toEqual([
        ['A', 1],
        ['D', 2],
        ['E', 3],
      ]);
      // A conflict draws no position: the positions stay gap-free.
      expect(stream.map((e) => e.position)).toEqual([1, 2, 3]);
      expect((await store.readAll({ orgId: 'o', limit: 10 })).map((e) => e.type)).toEqual(['A', 'D']);
    });

    it('settles no transaction before its COMMIT is visible to another connection', async () => {
      // A deferred trigger makes every COMMIT that inserted events take a while.
      await admin.query(`
        CREATE FUNCTION "${schema}".slow_commit() RETURNS trigger LANGUAGE plpgsql AS $$
          BEGIN PERFORM pg_sleep(0.05); RETURN NULL; END $$;
        CREATE CONSTRAINT TRIGGER slow_commit AFTER INSERT ON "${schema}".events DEFERRABLE INITIALLY DEFERRED
          FOR EACH ROW EXECUTE FUNCTION "${schema}".slow_commit()`);
      const checks = await Promise.all(
        Array.from({ length: 6 }, (_, i) =>
          store
            .transaction((tx) => tx.append(`s${i}`, [ev('A')], 'no_stream'))
            .then(async (result) => {
              if (!result.ok) throw new Error('conflict');
              const seen = await admin.query(`SELECT 1 FROM "${schema}".events WHERE id = $1`, [result.events[0].id]);
              return seen.rowCount;
            }),
        ),
      );
      expect(checks).toEqual([1, 1, 1, 1, 1, 1]);
    });

    it('fails every transaction of the group when its COMMIT fails', async () => {
      // A deferred trigger that refuses the commit of any transaction holding an event of type 'Poison'.
      await admin.query(`
        CREATE FUNCTION "${schema}".poison() RETURNS trigger LANGUAGE plpgsql AS $$
          BEGIN IF NEW.type = 'Poison' THEN RAISE EXCEPTION 'poisoned commit'; END IF; RETURN NULL; END $$;
        CREATE CONSTRAINT TRIGGER poison AFTER INSERT ON "${schema}".events DEFERRABLE INITIALLY DEFERRED
          FOR EACH ROW EXECUTE FUNCTION "${schema}".poison()`);
      const results = await Promise.allSettled([
        append('a', [ev('A')]),
        append('p', [ev('Poison')]),
        store.transaction(async () => {
          throw new Error('own error');
        }),
        append('b', [ev('B')]),
      ]);
      expect(results.map((r) => (r.status === 'rejected' ? (r.reason as Error).message : 'ok'))).toEqual([
        'poisoned commit',
        'poisoned commit',
        'own error',
        'poisoned commit',
      ]);
      expect(await committedStreams()).toEqual([]);
      // The store goes on with the next group.
      expect(await append('a', [ev('A')], 'no_stream')).toMatchObject({ ok: true });
    });

    it('runs more queued transactions than one group holds, in call order', async () => {
      const results = await Promise.all(
        Array.from({ length: 150 }, (_, i) =>
          store.transaction(async (tx) => {
            const version = (await tx.readStream('counter')).length;
            return tx.append('counter', [ev('Tick', { i })], version === 0 ? 'no_stream' : version);
          }),
        ),
      );
      expect(results.every((r) => r.ok)).toBe(true);
      const stream = await store.readStream('counter');
      expect(stream.map((e) => (e.data as { i: number }).i)).toEqual(Array.from({ length: 150 }, (_, i) => i));
      expect(stream.map((e) => e.position)).toEqual(Array.from({ length: 150 }, (_, i) => i + 1));
    });

    it('closes after the queued transactions have committed', async () => {
      const queued = Array.from({ length: 5 }, (_, i) => append(`s${i}`, [ev('A')], 'no_stream'));
      await store.close();
      expect((await Promise.all(queued)).every((r) => r.ok)).toBe(true);
      expect(await committedStreams()).toEqual(['s0', 's1', 's2', 's3', 's4']);
      await expect(append('s', [ev('A')])).rejects.toThrow(/closed/);
    });
  });

  it('lets a tailing reader see every event exactly once, in order, under 8 concurrent writer pools', async () => {
    const writers = 8;
    const perWriter = 50;
    const pools = await Promise.all(Array.from({ length: writers }, () => open({ max: 3 })));
    let writing = true;
    let rolledBack = 0;

    const write = async (store: PostgresEventStore, w: number) => {
      // Each pool runs its transactions 3 at a time, so writers of the same and of other pools contend.
      // A lane's transactions run one after the other, and each lane has its own streams: writers never
      // conflict on a stream, they only compete for positions.
      const next = { i: 0 };
      const lane = async (l: number) => {
        for (let i = next.i++; i < perWriter; i = next.i++) {
          const count = 1 + (i % 3);
          const events = Array.from({ length: count }, (_, k) => ev('Tick', { w, i, k }, [`org${w}`]));
          try {
            await store.transaction(async (tx) => {
              await tx.append(`w${w}-l${l}-s${i % 5}`, events, 'any');
              if (i % 4 === 0) await new Promise((r) => setTimeout(r, 1 + (i % 3))); // hold the lock a while
              if (i % 10 === 7) throw new Error('rollback'); // leaves a gap in the sequence
            });
          } catch (e) {
            if ((e as Error).message !== 'rollback') throw e;
            rolledBack++;
          }
        }
      };
      await Promise.all([lane(0), lane(1), lane(2)]);
    };

    const seen: StoredEvent[] = [];
    const tail = async () => {
      const reader = pools[0];
      let last = 0;
      let polls = 0;
      for (;;) {
        const done = !writing; // read once more after the writers finished
        const batch = await reader.readAll({ after: last, limit: 17 });
        polls++;
        for (const e of batch) {
          expect(e.position).toBeGreaterThan(last);
          last = e.position;
          seen.push(e);
        }
        if (batch.length === 17) continue;
        if (done) return polls;
        await new Promise((r) => setImmediate(r));
      }
    };

    const reading = tail();
    try {
      await Promise.all(pools.map((s, w) => write(s, w)));
    } finally {
      writing = false;
    }
    const polls = await reading;

    const log = await store.readAll({ limit: 100_000 });
    const committedTx = writers * perWriter - rolledBack;
    expect(rolledBack).toBe(writers * 5);
    expect(log.length).toBe(
      writers * Array.from({ length: perWriter }, (_, i) => (i % 10 === 7 ? 0 : 1 + (i % 3))).reduce((a, b) => a + b),
    );
    expect(seen.map((e) => e.position)).toEqual(log.map((e) => e.position));
    expect(seen).toEqual(log);
    expect(new Set(seen.map((e) => e.id)).size).toBe(seen.length);
    expect(polls).toBeGreaterThan(10); // the reader really tailed the writes
    expect(committedTx).toBeGreaterThan(0);
    // Each stream's versions are 1..n with no hole.
    const byStream = new Map<string, number[]>();
    for (const e of log) byStream.set(e.streamId, [...(byStream.get(e.streamId) ?? []), e.streamVersion]);
    for (const versions of byStream.values()) {
      expect(versions).toEqual(Array.from({ length: versions.length }, (_, i) => i + 1));
    }
  }, 120_000);
});
