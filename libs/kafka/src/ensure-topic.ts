import { createKafkaClient, type KafkaConnectionOptions } from './kafka-client';

/**
 * Creates `topic` with `partitions` partitions (replication: the broker's default) if it does not exist,
 * and waits (up to `timeoutMs`) until every partition has a leader. Resolves `true` when it created the
 * topic, `false` when the topic was there already (its partition count is then left as it is: changing it
 * would move keys between partitions and break the per-tree order of the events in flight).
 */
export async function ensureTopic(
  brokers: string[] | string,
  topic: string,
  partitions = 6,
  options: Omit<KafkaConnectionOptions, 'brokers'> & { timeoutMs?: number } = {},
): Promise<boolean> {
  const admin = createKafkaClient({ ...options, brokers }, 'arbor-admin').admin();
  await admin.connect();
  try {
    // kafkajs' own `waitForLeaders` gives up when the metadata does not list the new topic yet (it only
    // retries "leader not available"), which a fresh topic often hits: poll the metadata here instead.
    const created = await admin.createTopics({ topics: [{ topic, numPartitions: partitions }], waitForLeaders: false });
    const deadline = Date.now() + (options.timeoutMs ?? 30_000);
    for (;;) {
      try {
        const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
        const meta = topics.find((t) => t.name === topic);
        if (meta && meta.partitions.length > 0 && meta.partitions.every((p) => p.leader >= 0)) return created;
      } catch (e) {
        if (Date.now() > deadline) throw e;
      }
      if (Date.now() > deadline) throw new Error(`Kafka topic ${topic} has no leader for every partition in time.`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  } finally {
    await admin.disconnect();
  }
}
