import { describeWithEnv } from '@arbor/testing';
import type { Logger } from '@arbor/application';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import { ensureTopic } from './ensure-topic';
import { KafkaBus } from './kafka-bus';

const brokers = process.env.KAFKA_BROKERS ?? '';
const maybe = describeWithEnv('KAFKA_BROKERS');

jest.setTimeout(90_000);

/**
 * A consumer group member in a process of its own, joined once the promise resolves: SIGKILL it to leave a
 * member the group must wait for (it never says it leaves).
 */
async function memberInAnotherProcess(groupId: string, topic: string): Promise<ChildProcess> {
  const script = `
    const { Kafka, logLevel } = require('kafkajs');
    const kafka = new Kafka({ brokers: ${JSON.stringify(brokers.split(','))}, logLevel: logLevel.NOTHING });
    const consumer = kafka.consumer({ groupId: ${JSON.stringify(groupId)} });
    consumer.on(consumer.events.GROUP_JOIN, () => process.stdout.write('joined\\n'));
    (async () => {
      await consumer.connect();
      await consumer.subscribe({ topics: [${JSON.stringify(topic)}] });
      await consumer.run({ eachMessage: async () => undefined });
    })();`;
  const child = spawn(process.execPath, ['-e', script], { cwd: process.cwd(), stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d) => String(d).includes('joined') && resolve());
    child.once('exit', (code) => reject(new Error(`the member exited with ${code} before joining`)));
  });
  return child;
}

maybe('Kafka bus close', () => {
  it('returns within its bound while the group waits for a member that died, and says so', async () => {
    const topic = `arbor-close-${randomBytes(6).toString('hex')}`;
    const groupId = `arbor-close-${randomBytes(4).toString('hex')}`;
    await ensureTopic(brokers, topic, 2);
    const dead = await memberInAnotherProcess(groupId, topic);
    dead.kill('SIGKILL');
    await new Promise((r) => dead.once('exit', r));

    const warnings: string[] = [];
    const log: Logger = { info: () => undefined, warn: (m) => warnings.push(m), error: () => undefined };
    const bus = new KafkaBus({ brokers, topic, groupId, closeWaitMs: 1_000, logger: log });
    let joined = false;
    void bus.ready().then(() => (joined = true));
    bus.subscribe(() => undefined);
    // Long enough for the consumer to be waiting on its JoinGroup, far shorter than the dead member's session.
    await new Promise((r) => setTimeout(r, 2_000));
    expect(joined).toBe(false);

    await bus.close();
    // The rebalance (and with it kafkajs' disconnect) ends only once the dead member's 30 s session has timed
    // out: a close that waited for it would find the bus joined by now.
    expect(joined).toBe(false);
    expect(warnings).toContain('kafka bus: closed without leaving the consumer group (a rebalance is under way)');

    const admin = new Kafka({ brokers: brokers.split(','), logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin.disconnect();
  });
});
