import type { Admin } from 'kafkajs';
import { createKafkaClient, type KafkaConnectionOptions } from './kafka-client';

/** Pause between two attempts to reach the brokers, doubled each time up to RETRY_MAX_MS. */
const RETRY_INITIAL_MS = 300;
const RETRY_MAX_MS = 3_000;
/** Pause between two metadata reads while the new topic's partitions get their leaders. */
const LEADER_POLL_MS = 100;

/**
 * Creates `topic` with `partitions` partitions (replication: the broker's default) if it does not exist,
 * and waits (up to `timeoutMs`, default 30,000 ms, for the whole call) until every partition has a leader. Resolves
 * `true` when it created the topic, `false` when the topic was there already (its partition count is then left as it
 * is: changing it would move keys between partitions and break the per-tree order of the events in flight).
 *
 * Attempts are its own, not kafkajs' retrier (whose back-off nobody can interrupt: up to ~9 s of reconnecting to an
 * unreachable broker after the caller has given up): the admin client tries once per attempt, and between attempts
 * `signal` is heard. Aborting rejects with the signal's reason at once and leaves nothing connected or scheduled.
 * Rejects with the last attempt's error once `timeoutMs` has passed.
 */
export async function ensureTopic(
  brokers: string[] | string,
  topic: string,
  partitions = 6,
  options: Omit<KafkaConnectionOptions, 'brokers'> & { timeoutMs?: number; signal?: AbortSignal } = {},
): Promise<boolean> {
  const { signal } = options;
  signal?.throwIfAborted();
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  // One try per attempt, in the cluster (its connect and metadata) as in the admin's own requests.
  const once = { ...options.kafkaConfig?.retry, retries: 0 };
  const client = createKafkaClient(
    { ...options, brokers, kafkaConfig: { ...options.kafkaConfig, retry: once } },
    'arbor-admin',
  );
  const admin = client.admin({ retry: once });
  // A disconnect ends a connection attempt in progress too (its socket is closed; the attempt then fails).
  const onAbort = () => void admin.disconnect().catch(() => undefined);
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    let created: boolean | undefined;
    for (let pauseMs = RETRY_INITIAL_MS; ; pauseMs = Math.min(pauseMs * 2, RETRY_MAX_MS)) {
      try {
        await admin.connect();
        // Asked first: kafkajs logs a warning ("Topic creation errors") for a topic that exists, at every start.
        created ??= (await admin.listTopics()).includes(topic)
          ? false
          : await admin.createTopics({ topics: [{ topic, numPartitions: partitions }], waitForLeaders: false });
        if (await hasLeaders(admin, topic)) return created;
        // A fresh topic whose leaders are being elected: look again soon, not after the back-off.
        pauseMs = LEADER_POLL_MS / 2;
      } catch (e) {
        signal?.throwIfAborted();
        if (Date.now() >= deadline) throw e;
      }
      signal?.throwIfAborted();
      if (Date.now() >= deadline) throw new Error(`Kafka topic ${topic} has no leader for every partition in time.`);
      await pause(Math.min(pauseMs, Math.max(0, deadline - Date.now())), signal);
    }
  } finally {
    signal?.removeEventListener('abort', onAbort);
    await admin.disconnect().catch(() => undefined);
  }
}

/** Whether the metadata lists `topic` with a leader for every partition (kafkajs' own `waitForLeaders` gives up when
 * the metadata does not list a new topic yet, which a fresh topic often hits). */
async function hasLeaders(admin: Admin, topic: string): Promise<boolean> {
  const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
  const meta = topics.find((t) => t.name === topic);
  return meta !== undefined && meta.partitions.length > 0 && meta.partitions.every((p) => p.leader >= 0);
}

/** Waits `ms`, or rejects with the signal's reason as soon as it is aborted. */
function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((done, fail) => {
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', abort);
      done();
    }, ms);
    const abort = () => {
      clearTimeout(timer);
      fail(signal!.reason);
    };
    signal?.addEventListener('abort', abort, { once: true });
  });
}
