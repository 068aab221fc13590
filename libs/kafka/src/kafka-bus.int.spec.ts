import { describeWithEnv } from '@arbor/testing';
import type { NewEvent } from '@arbor/application';
import type { StoredEvent } from '@arbor/domain';
// Test-only: the real SQLite event store as the log (jest maps @arbor/* to sources; not a lib dependency).
import { openSqliteEventStore, type SqliteEventStore } from '@arbor/sqlite';
import { Kafka, logLevel, type Consumer } from 'kafkajs';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ensureTopic } from './ensure-topic';
import { KafkaBus } from './kafka-bus';
import { KafkaEventPublisher, type PublisherCheckpoint } from './kafka-event-publisher';
import { ORG_PATH_HEADER, eventMessageKey } from './kafka-event-message';

const brokers = process.env.KAFKA_BROKERS ?? '';
const maybe = describeWithEnv('KAFKA_BROKERS');

jest.setTimeout(90_000);

/** A checkpoint in memory, recording every save; `beforeSave` runs before a save is recorded. */
class MemoryCheckpoint implements PublisherCheckpoint {
  position = 0;
  saves: number[] = [];
  beforeSave: ((position: number) => Promise<void>) | undefined;
  async load(): Promise<number> {
    return this.position;
  }
  async save(position: number): Promise<void> {
    await this.beforeSave?.(position);
    this.saves.push(position);
    this.position = position;
  }
}

/** A MemoryCheckpoint with the relay's lease (PublisherCheckpoint.claim), as the PostgreSQL one keeps it. */
class LeasedMemoryCheckpoint extends MemoryCheckpoint {
  holder: string | undefined;
  expires = 0;
  async claim(owner: string, ttlMs: number): Promise<boolean> {
    const now = Date.now();
    if (this.holder !== undefined && this.holder !== owner && this.expires >= now) return false;
    this.holder = owner;
    this.expires = now + ttlMs;
    return true;
  }
  async release(owner: string): Promise<void> {
    if (this.holder === owner) this.holder = undefined;
  }
}

/** Streams spread over three organization trees (with subtrees) and over no organization at all. */
const SHAPES: Array<{ streamId: string; orgPath: string[] }> = [
  { streamId: 'org-a', orgPath: ['org-a'] },
  { streamId: 'org-a1', orgPath: ['org-a', 'org-a1'] },
  { streamId: 'org-a1x', orgPath: ['org-a', 'org-a1', 'org-a1x'] },
  { streamId: 'org-b', orgPath: ['org-b'] },
  { streamId: 'org-b1', orgPath: ['org-b', 'org-b1'] },
  { streamId: 'org-c', orgPath: ['org-c'] },
  { streamId: 'usr-1', orgPath: [] },
  { streamId: 'usr-2', orgPath: [] },
];

async function waitUntil(condition: () => boolean, what: string, timeoutMs = 45_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

maybe('Kafka bus and event publisher (real broker, SQLite log)', () => {
  let dir: string;
  let store: SqliteEventStore;
  let topic: string;
  let kafka: Kafka;
  const cleanups: Array<() => Promise<unknown>> = [];
  let counter = 0;

  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'arbor-kafka-'));
    store = openSqliteEventStore(path.join(dir, 'events.sqlite'));
    topic = `arbor-test-${randomBytes(6).toString('hex')}`;
    kafka = new Kafka({ clientId: 'arbor-kafka-test', brokers: brokers.split(','), logLevel: logLevel.NOTHING });
    expect(await ensureTopic(brokers, topic, 6)).toBe(true);
    expect(await ensureTopic(brokers, topic, 6)).toBe(false);
  });
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
    await store.close();
    const admin = kafka.admin();
    await admin.connect();
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin.disconnect();
    fs.rmSync(dir, { recursive: true, force: true, maxRetries: 5 });
  });

  /** Appends `n` events, one per transaction, cycling through the shapes; returns them as stored. */
  async function append(n: number): Promise<StoredEvent[]> {
    const stored: StoredEvent[] = [];
    for (let i = 0; i < n; i++) {
      const shape = SHAPES[counter % SHAPES.length];
      const event: NewEvent = {
        type: 'TestHappened',
        data: { n: counter++ },
        actor: { type: 'user', id: 'usr_1' },
        orgPath: shape.orgPath,
      };
      const result = await store.transaction((tx) => tx.append(shape.streamId, [event], 'any'));
      if (!result.ok) throw new Error('conflict');
      stored.push(...result.events);
    }
    return stored;
  }

  function subscriber(groupSuffix: string, publisher?: KafkaEventPublisher) {
    const bus = new KafkaBus({
      brokers,
      topic,
      groupId: `arbor-test-${groupSuffix}-${randomBytes(4).toString('hex')}`,
      fromBeginning: true,
      publisher,
    });
    cleanups.push(() => bus.close());
    const deliveries: StoredEvent[][] = [];
    bus.subscribe((events) => {
      deliveries.push(events);
    });
    const received = () => deliveries.flat();
    return { bus, deliveries, received };
  }

  function publisher(checkpoint: PublisherCheckpoint, options: { batchSize?: number; brokers?: string } = {}) {
    const p = new KafkaEventPublisher({
      brokers: options.brokers ?? brokers,
      topic,
      store,
      checkpoint,
      batchSize: options.batchSize,
      // Fail fast against the unreachable broker; a real deployment keeps kafkajs' defaults.
      kafkaConfig: options.brokers ? { retry: { retries: 0 }, connectionTimeout: 200 } : undefined,
    });
    cleanups.push(() => p.stop());
    return p;
  }

  /** Every message on the topic as a raw consumer sees it: key, partition, header, value. */
  async function rawMessages(
    expected: number,
  ): Promise<Array<{ key: string; partition: number; orgPath: string; id: string; position: number }>> {
    const consumer: Consumer = kafka.consumer({ groupId: `arbor-test-raw-${randomBytes(4).toString('hex')}` });
    cleanups.push(() => consumer.disconnect());
    const seen: Array<{ key: string; partition: number; orgPath: string; id: string; position: number }> = [];
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ partition, message }) => {
        const value = JSON.parse(message.value!.toString()) as StoredEvent;
        seen.push({
          key: message.key!.toString(),
          partition,
          orgPath: message.headers![ORG_PATH_HEADER]!.toString(),
          id: value.id,
          position: value.position,
        });
      },
    });
    await waitUntil(() => seen.length >= expected, `${expected} raw messages`);
    await consumer.disconnect();
    return seen;
  }

  it('delivers every appended event once, in order per organization tree, with the same envelope, keyed by root organization', async () => {
    const before = await append(40);
    const checkpoint = new MemoryCheckpoint();
    const relay = publisher(checkpoint, { batchSize: 16 });
    const sub = subscriber('order', relay);
    await sub.bus.ready();
    await relay.start();
    const after = await append(24);
    await sub.bus.publish(after); // wakes the relay at once
    const all = [...before, ...after];

    await waitUntil(() => sub.received().length >= all.length, 'all events at the subscriber');
    await waitUntil(() => checkpoint.position === all.length, 'the checkpoint at the head');
    await new Promise((r) => setTimeout(r, 500)); // anything extra would show up now
    const received = sub.received();

    // Exactly once, and the very envelope the log holds (orgPath included, from the header).
    expect(received).toHaveLength(all.length);
    const byId = new Map(all.map((e) => [e.id, e]));
    for (const e of received) expect(e).toEqual(byId.get(e.id));
    expect(new Set(received.map((e) => e.id))).toEqual(new Set(byId.keys()));

    // Per key (root organization, or stream), arrival order is log order.
    const lastPositionByKey = new Map<string, number>();
    for (const e of received) {
      const key = eventMessageKey(e);
      expect(e.position).toBeGreaterThan(lastPositionByKey.get(key) ?? 0);
      lastPositionByKey.set(key, e.position);
    }
    expect([...lastPositionByKey.keys()].sort()).toEqual(['org-a', 'org-b', 'org-c', 'usr-1', 'usr-2']);

    // Handlers only ever get runs of consecutive positions (runs of several: the 40 events before the relay started).
    expect(sub.deliveries.some((d) => d.length > 1)).toBe(true);
    for (const d of sub.deliveries) d.forEach((e, i) => i === 0 || expect(e.position).toBe(d[i - 1].position + 1));

    // Checkpoints only grow, batch by batch (at most 16 events a batch: several saves).
    expect(checkpoint.saves.length).toBeGreaterThanOrEqual(Math.ceil(all.length / 16));
    expect(checkpoint.saves).toEqual([...checkpoint.saves].sort((a, b) => a - b));
    expect(checkpoint.saves[checkpoint.saves.length - 1]).toBe(all.length);

    // On the wire: key = root organization id (or stream), one partition per key, orgPath header.
    const raw = await rawMessages(all.length);
    expect(raw).toHaveLength(all.length);
    const partitionByKey = new Map<string, number>();
    for (const m of raw) {
      const e = byId.get(m.id)!;
      expect(m.key).toBe(e.orgPath[0] ?? e.streamId);
      expect(m.orgPath).toBe(JSON.stringify(e.orgPath));
      expect(partitionByKey.get(m.key) ?? m.partition).toBe(m.partition);
      partitionByKey.set(m.key, m.partition);
    }
    expect(new Set(partitionByKey.values()).size).toBeGreaterThan(1);
  });

  it('advances the checkpoint only after the broker acknowledged; a stop and restart lose nothing', async () => {
    // A broker that is not there: the log is read, nothing is acknowledged, the checkpoint stays put.
    const unacknowledged = new MemoryCheckpoint();
    const stranded = publisher(unacknowledged, { brokers: '127.0.0.1:1' });
    const first = await append(50);
    await stranded.start();
    await new Promise((r) => setTimeout(r, 1_500));
    await stranded.stop();
    expect(unacknowledged.saves).toEqual([]);
    expect(stranded.position).toBe(0);

    // The real broker. At each save, the topic must already hold every event up to that position
    // (the sum of the partitions' high watermarks: no duplicates happen in this run).
    const admin = kafka.admin();
    await admin.connect();
    cleanups.push(() => admin.disconnect());
    const onTopic = async () => (await admin.fetchTopicOffsets(topic)).reduce((sum, p) => sum + Number(p.high), 0);
    const checkpoint = new MemoryCheckpoint();
    let gate: (() => void) | undefined;
    const thirdSave = new Promise<void>((resolve) => (gate = resolve));
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    const unacknowledgedSaves: number[] = [];
    checkpoint.beforeSave = async (position) => {
      if ((await onTopic()) < position) unacknowledgedSaves.push(position);
      if (checkpoint.saves.length === 2) {
        gate!();
        await held; // keep the relay inside its third save while it is asked to stop
      }
    };
    const sub = subscriber('restart');
    await sub.bus.ready();
    const relay = publisher(checkpoint, { batchSize: 7 });
    await relay.start();
    await thirdSave;
    const stopping = relay.stop();
    release();
    await stopping;
    expect(checkpoint.saves).toEqual([7, 14, 21]);
    expect(relay.position).toBe(21);

    // More events while no relay runs; then a new relay resumes from the checkpoint.
    const second = await append(10);
    const resumed = publisher(checkpoint, { batchSize: 7 });
    await resumed.start();
    await waitUntil(() => checkpoint.position === 60, 'the resumed relay to reach the head');
    const all = [...first, ...second];
    await waitUntil(() => new Set(sub.received().map((e) => e.id)).size >= all.length, 'all events at the subscriber');
    // Duplicates would be allowed (at-least-once); losses are not.
    expect(new Set(sub.received().map((e) => e.id))).toEqual(new Set(all.map((e) => e.id)));
    expect(checkpoint.saves).toEqual([7, 14, 21, 28, 35, 42, 49, 56, 60]);
    expect(unacknowledgedSaves).toEqual([]);
  });

  it('relays each event once with two publishers on one log (one command service each): one holds the lease', async () => {
    const checkpoint = new LeasedMemoryCheckpoint();
    const first = publisher(checkpoint, { batchSize: 16 });
    const second = publisher(checkpoint, { batchSize: 16 });
    await append(30);
    await first.start();
    await second.start();
    await waitUntil(() => checkpoint.position === 30, 'the first 30 events relayed');
    expect([first.role, second.role].sort()).toEqual(['active', 'standby']);
    // The holder stops cleanly (its lease given up): the other takes over from the shared checkpoint.
    const [holder, standby] = first.role === 'active' ? [first, second] : [second, first];
    await holder.stop();
    await append(20);
    await waitUntil(() => checkpoint.position === 50, 'the standby relaying the rest');
    expect(standby.role).toBe('active');
    await new Promise((r) => setTimeout(r, 1_500)); // a second copy would be on the topic by now
    const admin = kafka.admin();
    await admin.connect();
    const offsets = await admin.fetchTopicOffsets(topic);
    await admin.disconnect();
    expect(offsets.reduce((sum, o) => sum + Number(o.high) - Number(o.low), 0)).toBe(50);
  });
});
