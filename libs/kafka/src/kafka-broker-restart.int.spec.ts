import { describeWithEnv } from '@arbor/testing';
import type { Logger } from '@arbor/application';
import type { StoredEvent } from '@arbor/domain';
// Test-only: the real SQLite event store as the log (jest maps @arbor/* to sources; not a lib dependency).
import { openSqliteEventStore, type SqliteEventStore } from '@arbor/sqlite';
import { execSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ensureTopic } from './ensure-topic';
import { KafkaBus } from './kafka-bus';
import { KafkaEventPublisher } from './kafka-event-publisher';

/**
 * Stops and restarts a broker under a running publisher and bus. Needs a broker of its own (it is taken
 * down mid-test): `KAFKA_RESTART_BROKERS`, and shell commands that stop it (returning once it is down)
 * and start it again: `KAFKA_RESTART_STOP_CMD`, `KAFKA_RESTART_START_CMD`.
 */
const brokers = process.env.KAFKA_RESTART_BROKERS ?? '';
const stopCmd = process.env.KAFKA_RESTART_STOP_CMD ?? '';
const startCmd = process.env.KAFKA_RESTART_START_CMD ?? '';
const maybe = describeWithEnv('KAFKA_RESTART_BROKERS', 'KAFKA_RESTART_STOP_CMD', 'KAFKA_RESTART_START_CMD');

jest.setTimeout(240_000);

/** `KAFKA_RESTART_LOG=1` prints what kafkajs and the relay report, with times: to see how recovery goes. */
const debugLogger = (who: string): Logger | undefined =>
  process.env.KAFKA_RESTART_LOG
    ? {
        info: (m) => console.warn(new Date().toISOString(), who, m),
        warn: (m, f) => console.warn(new Date().toISOString(), who, m, JSON.stringify(f)),
        error: (m, f) => console.warn(new Date().toISOString(), who, m, JSON.stringify(f)),
      }
    : undefined;

async function waitUntil(condition: () => boolean, what: string, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

maybe('Kafka bus and publisher across a broker restart', () => {
  let dir: string;
  let store: SqliteEventStore;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'arbor-kafka-restart-'));
    store = openSqliteEventStore(path.join(dir, 'events.sqlite'));
  });
  afterEach(async () => {
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true, maxRetries: 5 });
  });

  it('resumes publishing and delivery once the broker is back, without restarting anything', async () => {
    const topic = `arbor-restart-${randomBytes(6).toString('hex')}`;
    await ensureTopic(brokers, topic, 6);
    let n = 0;
    const append = async (count: number): Promise<StoredEvent[]> => {
      const out: StoredEvent[] = [];
      for (let i = 0; i < count; i++, n++) {
        const orgPath = n % 3 === 0 ? [] : [`org-${n % 3}`];
        const r = await store.transaction((tx) =>
          tx.append(
            `s-${n % 5}`,
            [{ type: 'T', data: { n }, actor: { type: 'system', id: 'system' }, orgPath }],
            'any',
          ),
        );
        if (!r.ok) throw new Error('conflict');
        out.push(...r.events);
      }
      return out;
    };
    const saves: number[] = [];
    let checkpoint = 0;
    const publisher = new KafkaEventPublisher({
      brokers,
      topic,
      store,
      checkpoint: { load: async () => checkpoint, save: async (p) => void saves.push((checkpoint = p)) },
      maxBackoffMs: 1_000,
      logger: debugLogger('publisher'),
    });
    const bus = new KafkaBus({
      brokers,
      topic,
      groupId: `arbor-restart-${randomBytes(4).toString('hex')}`,
      fromBeginning: true,
      publisher,
      logger: debugLogger('bus'),
      // Quicker than the 30 s default: after the restart the group waits that long for its former members.
      consumerConfig: { sessionTimeout: 10_000, heartbeatInterval: 1_000 },
    });
    const received: StoredEvent[] = [];
    bus.subscribe((events) => void received.push(...events));
    const ids = () => new Set(received.map((e) => e.id));
    try {
      await bus.ready();
      await publisher.start();
      const first = await append(20);
      await bus.publish(first);
      await waitUntil(() => ids().size === 20, 'the first events');

      execSync(stopCmd, { stdio: 'inherit' });
      const second = await append(20);
      await bus.publish(second);
      await new Promise((r) => setTimeout(r, 3_000));
      expect(checkpoint).toBe(20); // nothing acknowledged while the broker is down

      execSync(startCmd, { stdio: 'inherit' });
      await waitUntil(() => checkpoint === 40, 'the publisher to resume');
      debugLogger('test')?.info('published all 40');
      const third = await append(10);
      await bus.publish(third);
      await waitUntil(() => ids().size === 50, 'every event at the subscriber');
      debugLogger('test')?.info('delivered all 50');
      expect(ids()).toEqual(new Set([...first, ...second, ...third].map((e) => e.id)));
      expect(saves).toEqual([...saves].sort((a, b) => a - b));
    } finally {
      await publisher.stop();
      await bus.close();
    }
  });
});
