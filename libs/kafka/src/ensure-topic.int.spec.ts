import { randomBytes } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { describeWithEnv } from '@arbor/testing';
import { ensureTopic } from './ensure-topic';

jest.setTimeout(60_000);

/**
 * A peer that is no broker: it accepts TCP connections and closes them at once, counting them. kafkajs then fails
 * each attempt to connect (as against a broker that is down behind a load balancer), and the count shows whether
 * anything still tries after the caller has given up.
 */
async function refusingPeer(): Promise<{ server: Server; port: number; attempts: () => number }> {
  let attempts = 0;
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    attempts++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.destroy();
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as { port: number };
  return { server, port, attempts: () => attempts };
}

describe('ensureTopic against brokers it cannot reach', () => {
  let peer: Awaited<ReturnType<typeof refusingPeer>>;
  beforeEach(async () => {
    peer = await refusingPeer();
  });
  afterEach(async () => {
    await new Promise((done) => peer.server.close(done));
  });

  it('stops trying as soon as its signal is aborted: it rejects with the reason, and nothing connects afterwards', async () => {
    const controller = new AbortController();
    const ensured = ensureTopic(`127.0.0.1:${peer.port}`, 'arbor-unreachable', 6, { signal: controller.signal });
    ensured.catch(() => undefined);
    while (peer.attempts() < 2) await sleep(20);
    const reason = new Error('start-up failed elsewhere');
    controller.abort(reason);
    await expect(ensured).rejects.toBe(reason);
    const attemptsAtAbort = peer.attempts();
    // kafkajs' own retrier would go on reconnecting for ~9 s (5 retries, doubling from 300 ms); its next attempts
    // would fall in this window.
    await sleep(2_500);
    expect(peer.attempts()).toBe(attemptsAtAbort);
  });

  it('does not connect at all when its signal is aborted already', async () => {
    const controller = new AbortController();
    controller.abort(new Error('too late'));
    await expect(
      ensureTopic(`127.0.0.1:${peer.port}`, 'arbor-unreachable', 6, { signal: controller.signal }),
    ).rejects.toThrow('too late');
    await sleep(500);
    expect(peer.attempts()).toBe(0);
  });

  it('keeps trying until its timeout, then rejects with the last error', async () => {
    await expect(ensureTopic(`127.0.0.1:${peer.port}`, 'arbor-unreachable', 6, { timeoutMs: 1_500 })).rejects.toThrow();
    expect(peer.attempts()).toBeGreaterThanOrEqual(2);
  });
});

describeWithEnv('KAFKA_BROKERS')('ensureTopic against a broker', () => {
  const brokers = process.env.KAFKA_BROKERS ?? '';

  it('creates a topic whose partitions all have leaders, and says so only the first time', async () => {
    const topic = `arbor-ensure-${randomBytes(6).toString('hex')}`;
    const controller = new AbortController();
    expect(await ensureTopic(brokers, topic, 3, { signal: controller.signal })).toBe(true);
    // The second time, with nothing to create, nothing to warn about either (kafkajs warned "Topic creation errors").
    const warnings: string[] = [];
    const logger = {
      info: () => undefined,
      warn: (message: string) => warnings.push(message),
      error: (message: string) => warnings.push(message),
    } as unknown as NonNullable<Parameters<typeof ensureTopic>[3]>['logger'];
    expect(await ensureTopic(brokers, topic, 3, { signal: controller.signal, logger })).toBe(false);
    expect(warnings).toEqual([]);
  });
});
