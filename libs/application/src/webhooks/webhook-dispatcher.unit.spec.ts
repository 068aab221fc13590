import { createHmac } from 'node:crypto';
import type { StoredEvent } from '@arbor/domain';
import { Webhook } from 'standardwebhooks';
import type { EventQuery } from '../ports/event-store';
import type {
  WebhookAttempt,
  WebhookCursor,
  WebhookDeliveryStore,
  WebhookRequest,
  WebhookResponse,
  WebhookSecret,
  WebhookSubscriptionView,
} from '../ports/webhooks';
import { dropDeletedCursors } from './start-webhook-dispatch';
import { WebhookDispatcher, type WebhookDispatchOptions } from './webhook-dispatcher';

const SECRET = 'whsec_' + Buffer.alloc(32, 7).toString('base64');
const OLD_SECRET = 'whsec_' + Buffer.alloc(32, 9).toString('base64');
/** The test's clock starts now: the specification's verifier refuses timestamps more than 5 minutes off. */
const T0 = Date.now();
const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };

/** The log: `orgPath` decides the subtree filter as the stores' does (the organization or one above it). */
class Log {
  readonly events: StoredEvent[] = [];
  add(type: string, orgPath: string[]): StoredEvent {
    const position = this.events.length + 1;
    const event: StoredEvent = {
      id: `evt_${position}`,
      type,
      streamId: `org-${orgPath.at(-1)}`,
      streamVersion: 1,
      position,
      occurredAt: new Date(1_800_000_000_000 + position).toISOString(),
      actor: { type: 'system', id: 'system' },
      data: { orgId: orgPath.at(-1) },
      orgPath,
    };
    this.events.push(event);
    return event;
  }
  async readAll(q: EventQuery): Promise<StoredEvent[]> {
    return this.events
      .filter((e) => e.position > (q.after ?? 0))
      .filter((e) => !q.types || q.types.includes(e.type))
      .filter((e) => !q.orgId || e.orgPath.includes(q.orgId))
      .slice(0, q.limit);
  }
  async headPosition(): Promise<number> {
    return this.events.length;
  }
}

class MemoryDeliveries implements WebhookDeliveryStore {
  readonly cursors = new Map<string, WebhookCursor>();
  readonly log: WebhookAttempt[] = [];
  leaseOwner = 'dispatcher';
  async cursor(id: string) {
    return this.cursors.get(id);
  }
  async saveCursor(c: WebhookCursor) {
    this.cursors.set(c.subscriptionId, { ...c });
  }
  async saveProgress(c: WebhookCursor, attempts: ReadonlyArray<Omit<WebhookAttempt, 'attemptId'>>) {
    for (const a of attempts) this.log.push({ ...a, attemptId: this.log.length + 1 });
    this.cursors.set(c.subscriptionId, { ...c });
  }
  async attempts() {
    return [...this.log].reverse();
  }
  async dropCursor(id: string) {
    this.cursors.delete(id);
  }
  async cursorIds() {
    return [...this.cursors.keys()].sort();
  }
  async purgeAttempts() {
    return 0;
  }
  async lease(owner: string) {
    return owner === this.leaseOwner;
  }
  /** The owners that gave the lease up. */
  released: string[] = [];
  async releaseLease(owner: string) {
    this.released.push(owner);
  }
  async close() {}
}

function setUp(options: Partial<WebhookDispatchOptions> = {}) {
  const log = new Log();
  const deliveries = new MemoryDeliveries();
  const sent: WebhookRequest[] = [];
  const disabled: Array<{ id: string; reason: string }> = [];
  let clock = T0;
  let respond: (r: WebhookRequest) => WebhookResponse = () => ({ status: 204 });
  const sub: WebhookSubscriptionView = {
    subscriptionId: 'whk_1',
    orgId: 'org_b',
    url: 'https://receiver.example/hook',
    eventTypes: [],
    description: '',
    enabled: true,
    disabledReason: null,
    createdPosition: 0,
    replay: null,
    createdAt: '',
    updatedAt: '',
    version: 1,
  };
  let secrets: WebhookSecret[] = [{ secret: SECRET, expiresAt: null }];
  /** The read models' checkpoint; undefined: caught up with the log. */
  let projected: number | undefined;
  let projectedReads = 0;
  let onList = () => undefined as void;
  const make = (restartOptions: Partial<WebhookDispatchOptions> = {}) =>
    new WebhookDispatcher({
      events: log,
      projectedPosition: async () => (projectedReads++, projected ?? log.events.length),
      subscriptions: {
        listAll: async () => (onList(), [{ ...sub }]),
        get: async () => ({ ...sub }),
      },
      secrets: { getWebhookSecrets: async () => secrets },
      deliveries,
      transport: {
        send: async (r) => (sent.push(r), respond(r)),
        close: async () => undefined,
      },
      disable: async (id, reason) => {
        disabled.push({ id, reason });
        sub.enabled = false;
      },
      log: silent,
      owner: 'dispatcher',
      options: { retryBaseMs: 1000, retryMaxMs: 60_000, maxFailures: 4, ...options, ...restartOptions },
      now: () => clock,
    });
  const dispatcher = make();
  return {
    log,
    deliveries,
    sent,
    disabled,
    sub,
    dispatcher,
    /** Another process's dispatcher over the same stores (a restart, or the lease handed over). */
    restarted: make,
    positions: () => sent.map((r) => (JSON.parse(r.body) as { position: number }).position),
    tick: (ms: number) => (clock += ms),
    respondWith: (f: (r: WebhookRequest) => WebhookResponse) => (respond = f),
    setSecrets: (s: WebhookSecret[]) => (secrets = s),
    projectTo: (position: number | undefined) => (projected = position),
    projectedReads: () => projectedReads,
    /** Runs as the subscriptions are listed (a rebuild starting then, say). */
    whenListing: (f: () => void) => (onList = f),
  };
}

describe('WebhookDispatcher', () => {
  it('gives the lease up when it stops, only if it held it: a restarted dispatcher need not wait for it to expire', async () => {
    const t = setUp();
    t.log.add('OrgCreated', ['org_b']);
    await t.dispatcher.deliverDue();
    await t.dispatcher.stop();
    expect(t.deliveries.released).toEqual(['dispatcher']);
    t.deliveries.leaseOwner = 'someone else';
    const other = t.restarted();
    await other.deliverDue();
    await other.stop();
    expect(t.deliveries.released).toEqual(['dispatcher']);
  });

  it('delivers the events of its subtree and types after its creation, in log order, each signed per Standard Webhooks', async () => {
    const t = setUp();
    t.log.add('OrgCreated', ['org_a']);
    t.sub.createdPosition = 1;
    t.log.add('OrgCreated', ['org_a', 'org_b']);
    t.log.add('OrgUpdated', ['org_a']);
    t.log.add('OrgCreated', ['org_a', 'org_b', 'org_c']);
    t.log.add('OrgUpdated', ['org_a', 'org_b']);
    await t.dispatcher.deliverDue();
    expect(t.positions()).toEqual([2, 4, 5]);
    for (const request of t.sent) {
      const envelope = JSON.parse(request.body) as StoredEvent;
      expect(Object.keys(envelope)).toEqual([
        'id',
        'type',
        'streamId',
        'streamVersion',
        'position',
        'occurredAt',
        'actor',
        'data',
      ]);
      // The specification's own verifier accepts it ...
      expect(new Webhook(SECRET).verify(request.body, request.headers)).toEqual(envelope);
      // ... and so does the specification's scheme written out: HMAC-SHA256 of "id.timestamp.body".
      const { 'webhook-id': id, 'webhook-timestamp': ts } = request.headers;
      expect(id).toBe(envelope.id);
      const key = Buffer.from(SECRET.slice('whsec_'.length), 'base64');
      const mac = createHmac('sha256', key).update(`${id}.${ts}.${request.body}`).digest('base64');
      expect(request.headers['webhook-signature']).toBe(`v1,${mac}`);
    }
    t.sub.eventTypes = ['OrgUpdated'];
    t.log.add('OrgCreated', ['org_a', 'org_b']);
    t.log.add('OrgUpdated', ['org_a', 'org_b', 'org_c']);
    await t.dispatcher.deliverDue();
    expect(t.positions()).toEqual([2, 4, 5, 7]);
    expect(t.deliveries.cursors.get('whk_1')?.position).toBe(7);
  });

  it('retries a failed event with doubling delays, later events waiting behind it, and logs every attempt', async () => {
    const t = setUp();
    t.log.add('OrgCreated', ['org_b']);
    t.log.add('OrgUpdated', ['org_b']);
    t.respondWith(() => ({ error: 'connection refused' }));
    await t.dispatcher.deliverDue();
    await t.dispatcher.deliverDue(); // not due yet: nothing sent
    expect(t.positions()).toEqual([1]);
    const first = t.deliveries.cursors.get('whk_1')!;
    expect(first.failures).toBe(1);
    const firstDelay = Date.parse(first.nextAttemptAt!) - T0;
    expect(firstDelay).toBeGreaterThanOrEqual(800);
    expect(firstDelay).toBeLessThanOrEqual(1200);
    t.tick(1200);
    t.respondWith(() => ({ status: 503 }));
    await t.dispatcher.deliverDue();
    const second = t.deliveries.cursors.get('whk_1')!;
    const secondDelay = Date.parse(second.nextAttemptAt!) - (T0 + 1200);
    expect(secondDelay).toBeGreaterThanOrEqual(1600);
    expect(secondDelay).toBeLessThanOrEqual(2400);
    t.tick(2400);
    t.respondWith(() => ({ status: 200 }));
    await t.dispatcher.deliverDue();
    expect(t.positions()).toEqual([1, 1, 1, 2]);
    expect(t.deliveries.log.map((a) => [a.position, a.attempt, a.outcome, a.httpStatus, a.error])).toEqual([
      [1, 1, 'failed', null, 'connection refused'],
      [1, 2, 'failed', 503, 'HTTP 503'],
      [1, 3, 'delivered', 200, null],
      [2, 1, 'delivered', 200, null],
    ]);
    // Every attempt at one event carries the same webhook-id (receivers drop repeats by it).
    expect(new Set(t.sent.slice(0, 3).map((r) => r.headers['webhook-id']))).toEqual(new Set(['evt_1']));
  });

  it('switches a subscription off after maxFailures attempts in a row with a reason, and starts afresh once enabled again', async () => {
    const t = setUp({ maxFailures: 3 });
    t.log.add('OrgCreated', ['org_b']);
    t.respondWith(() => ({ status: 500 }));
    for (let i = 0; i < 5; i++) {
      await t.dispatcher.deliverDue();
      t.tick(60_000);
    }
    expect(t.sent).toHaveLength(3);
    expect(t.disabled).toEqual([
      { id: 'whk_1', reason: '3 failed attempts in a row at event evt_1 (position 1); the last: HTTP 500' },
    ]);
    // A round before the Disabled event reaches the read model: the row still reads enabled, at the same version.
    t.sub.enabled = true;
    t.respondWith(() => ({ status: 204 }));
    await t.dispatcher.deliverDue();
    expect(t.sent).toHaveLength(3);
    // Projected (Disabled), then enabled again by its owner (Enabled): a fresh start.
    t.sub.version += 2;
    await t.dispatcher.deliverDue();
    expect(t.positions()).toEqual([1, 1, 1, 1]);
    expect(t.deliveries.cursors.get('whk_1')).toMatchObject({ position: 1, failures: 0 });
  });

  it('keeps counting failures across a restart, also one with a lower IAM_WEBHOOK_MAX_FAILURES', async () => {
    const t = setUp({ maxFailures: 20 });
    t.log.add('OrgCreated', ['org_b']);
    t.respondWith(() => ({ status: 502 }));
    for (let i = 0; i < 4; i++) {
      await t.dispatcher.deliverDue();
      t.tick(60_000);
    }
    const again = t.restarted({ maxFailures: 3 });
    await again.deliverDue();
    expect(t.deliveries.log.map((a) => a.attempt)).toEqual([1, 2, 3, 4, 5]);
    expect(t.disabled).toEqual([
      { id: 'whk_1', reason: '5 failed attempts in a row at event evt_1 (position 1); the last: HTTP 502' },
    ]);
    await again.deliverDue();
    expect(t.sent).toHaveLength(5);
  });

  it('replays from a position once per request, and signs with a rotated-out secret until it expires', async () => {
    const t = setUp();
    for (let i = 0; i < 4; i++) t.log.add('OrgUpdated', ['org_b']);
    await t.dispatcher.deliverDue();
    t.sub.replay = { fromPosition: 2, requestedPosition: 4 };
    t.setSecrets([
      { secret: SECRET, expiresAt: null },
      { secret: OLD_SECRET, expiresAt: new Date(T0 + 1000).toISOString() },
    ]);
    await t.dispatcher.deliverDue();
    await t.dispatcher.deliverDue();
    expect(t.positions()).toEqual([1, 2, 3, 4, 2, 3, 4]);
    const rotated = t.sent[4];
    expect(rotated.headers['webhook-signature'].split(' ')).toHaveLength(2);
    expect(new Webhook(OLD_SECRET).verify(rotated.body, rotated.headers)).toBeDefined();
    expect(new Webhook(SECRET).verify(rotated.body, rotated.headers)).toBeDefined();
    t.tick(1000);
    t.sub.replay = { fromPosition: 4, requestedPosition: 9 };
    await t.dispatcher.deliverDue();
    expect(t.sent.at(-1)!.headers['webhook-signature'].split(' ')).toHaveLength(1);
  });

  it('delivers nothing while another process holds the lease, nor to a subscription switched off', async () => {
    const t = setUp();
    t.log.add('OrgCreated', ['org_b']);
    t.deliveries.leaseOwner = 'another';
    await t.dispatcher.deliverDue();
    expect(t.sent).toHaveLength(0);
    t.deliveries.leaseOwner = 'dispatcher';
    await t.dispatcher.deliverDue(); // refused a moment ago: not asked again yet
    expect(t.sent).toHaveLength(0);
    t.tick(30_000 / 4);
    t.sub.enabled = false;
    await t.dispatcher.deliverDue();
    expect(t.sent).toHaveLength(0);
    t.sub.enabled = true;
    await t.dispatcher.deliverDue();
    expect(t.positions()).toEqual([1]);
  });
});

/** Resolves once `condition` holds, letting the dispatcher's promises run meanwhile (at most ~2 s). */
async function until(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 400 && !condition(); i++) await new Promise((r) => setTimeout(r, 5));
  if (!condition()) throw new Error(`never: ${what}`);
}

describe('WebhookDispatcher lanes (one per subscription)', () => {
  /** Two subscriptions, on org_a's and org_b's trees; the receiver of org_a's answers only when released. */
  function twoReceivers() {
    const t = setUp();
    const slow: WebhookSubscriptionView = {
      ...t.sub,
      subscriptionId: 'whk_slow',
      orgId: 'org_a',
      url: 'https://slow.example/',
    };
    const fast: WebhookSubscriptionView = {
      ...t.sub,
      subscriptionId: 'whk_fast',
      orgId: 'org_b',
      url: 'https://fast.example/',
    };
    const subs = [slow, fast];
    const pending: Array<() => void> = [];
    const sent: WebhookRequest[] = [];
    let clock = T0;
    const dispatcher = new WebhookDispatcher({
      events: t.log,
      projectedPosition: () => t.log.headPosition(),
      subscriptions: {
        listAll: async () => subs.filter(Boolean).map((s) => ({ ...s })),
        get: async (id) => subs.find((s) => s.subscriptionId === id),
      },
      secrets: { getWebhookSecrets: async () => [{ secret: SECRET, expiresAt: null }] },
      deliveries: t.deliveries,
      transport: {
        send: async (r) => {
          sent.push(r);
          if (r.url === slow.url) await new Promise<void>((release) => pending.push(release));
          return { status: 204 };
        },
        close: async () => undefined,
      },
      disable: async () => undefined,
      log: silent,
      owner: 'dispatcher',
      options: { pollMs: 60_000 },
      now: () => clock,
    });
    const to = (url: string) =>
      sent.filter((r) => r.url === url).map((r) => (JSON.parse(r.body) as { position: number }).position);
    /** Answers every request of the slow receiver until `done` resolves. */
    const releaseUntil = async (done: Promise<unknown>) => {
      let over = false;
      void done.then(() => (over = true));
      while (!over) {
        pending.splice(0).forEach((release) => release());
        await new Promise((r) => setTimeout(r, 5));
      }
    };
    return { t, slow, fast, subs, pending, dispatcher, to, releaseUntil, tick: (ms: number) => (clock += ms) };
  }

  it('lets a slow receiver hold up only its own deliveries', async () => {
    const { t, slow, fast, pending, dispatcher, to, releaseUntil } = twoReceivers();
    for (let i = 0; i < 3; i++) t.log.add('OrgUpdated', ['org_a']);
    dispatcher.wake();
    await until(() => pending.length === 1, 'the slow receiver has its first request');
    t.log.add('OrgCreated', ['org_b']);
    dispatcher.wake();
    await until(() => to(fast.url).length === 1, 'the other tree’s receiver has its event');
    expect(to(fast.url)).toEqual([4]);
    expect(to(slow.url)).toEqual([1]); // one request in flight per subscription
    await releaseUntil(until(() => to(slow.url).length === 3, 'the slow receiver has its three events'));
    await releaseUntil(dispatcher.stop());
    expect(to(slow.url)).toEqual([1, 2, 3]);
  });

  it('stops delivering to a subscription deleted or switched off while its backlog is under way', async () => {
    for (const change of ['deleted', 'disabled'] as const) {
      const { t, slow, subs, pending, dispatcher, to, releaseUntil, tick } = twoReceivers();
      for (let i = 0; i < 6; i++) t.log.add('OrgUpdated', ['org_a']);
      const round = dispatcher.deliverDue();
      await until(() => pending.length === 1, 'the first request');
      if (change === 'deleted') subs.splice(0, 1);
      else subs[0] = { ...slow, enabled: false, version: slow.version + 1 };
      tick(1_000);
      await releaseUntil(round);
      // The request under way when it changed is answered; none after it.
      expect([change, to(slow.url)]).toEqual([change, [1]]);
    }
  });
});

describe('WebhookDispatcher retries', () => {
  it('never waits longer than retryMaxMs between two attempts (the cap applies after the jitter)', async () => {
    const t = setUp({ maxFailures: 100, retryBaseMs: 1000, retryMaxMs: 8000 });
    t.log.add('OrgCreated', ['org_b']);
    t.respondWith(() => ({ status: 500 }));
    const delays: number[] = [];
    for (let i = 0; i < 30; i++) {
      await t.dispatcher.deliverDue();
      const cursor = t.deliveries.cursors.get('whk_1')!;
      const delay = Date.parse(cursor.nextAttemptAt!) - (T0 + i * 10_000);
      delays.push(delay);
      t.tick(10_000);
    }
    expect(Math.max(...delays)).toBeLessThanOrEqual(8000);
    expect(Math.min(...delays.slice(10))).toBeGreaterThanOrEqual(6400);
  });

  it('tries again at once, with a fresh count, once its owner changed the subscription (a URL fixed)', async () => {
    const t = setUp({ retryBaseMs: 600_000, retryMaxMs: 3_600_000 });
    t.log.add('OrgCreated', ['org_b']);
    t.respondWith(() => ({ status: 404 }));
    await t.dispatcher.deliverDue();
    t.tick(1_000);
    await t.dispatcher.deliverDue(); // its retry is ten minutes away: nothing sent
    expect(t.sent).toHaveLength(1);
    t.sub.url = 'https://receiver.example/fixed';
    t.sub.version += 1;
    t.respondWith(() => ({ status: 204 }));
    await t.dispatcher.deliverDue();
    expect(t.sent.map((r) => r.url)).toEqual(['https://receiver.example/hook', 'https://receiver.example/fixed']);
    expect(t.deliveries.log.map((a) => a.attempt)).toEqual([1, 1]);
  });

  it('keeps serving a subscription whose switch-off failed, and switches it off at the next run of failures', async () => {
    const t = setUp({ maxFailures: 2 });
    let refuse = true;
    const disabled: string[] = [];
    const dispatcher = new WebhookDispatcher({
      events: t.log,
      projectedPosition: () => t.log.headPosition(),
      subscriptions: { listAll: async () => [{ ...t.sub }], get: async () => ({ ...t.sub }) },
      secrets: { getWebhookSecrets: async () => [{ secret: SECRET, expiresAt: null }] },
      deliveries: t.deliveries,
      transport: { send: async (r) => (t.sent.push(r), { status: 500 }), close: async () => undefined },
      disable: async (id) => {
        if (refuse) throw new Error('the store is unavailable');
        disabled.push(id);
      },
      log: silent,
      owner: 'dispatcher',
      options: { retryBaseMs: 1000, maxFailures: 2 },
      now: () => clock,
    });
    let clock = T0;
    const round = async () => {
      await dispatcher.deliverDue();
      clock += 60_000;
    };
    t.log.add('OrgCreated', ['org_b']);
    await round();
    await round(); // the second failure: the switch-off fails
    expect(t.sent).toHaveLength(2);
    refuse = false;
    await round();
    await round();
    await round();
    expect(t.sent).toHaveLength(4);
    expect(disabled).toEqual(['whk_1']);
  });
});

describe('WebhookDispatcher replays', () => {
  it('delivers the events before a replay’s position that were never delivered (a replay ahead of the cursor)', async () => {
    const t = setUp();
    t.log.add('OrgCreated', ['org_b']);
    await t.dispatcher.deliverDue();
    t.sub.enabled = false;
    for (let i = 0; i < 3; i++) t.log.add('OrgUpdated', ['org_b']);
    await t.dispatcher.deliverDue();
    t.sub.replay = { fromPosition: 4, requestedPosition: 5 };
    t.sub.enabled = true;
    t.sub.version += 3;
    await t.dispatcher.deliverDue();
    expect(t.positions()).toEqual([1, 2, 3, 4]);
  });
  it('delivers no event the read models have not reached (a change of the subscription there is not seen yet)', async () => {
    const t = setUp();
    for (let i = 0; i < 4; i++) t.log.add('OrgUpdated', ['org_a', 'org_b']);
    // Position 3 may be the subscription's switch-off by a move: the list read shows it as of position 2.
    t.projectTo(2);
    await t.dispatcher.deliverDue();
    expect(t.positions()).toEqual([1, 2]);
    t.projectTo(undefined);
    await t.dispatcher.deliverDue();
    expect(t.positions()).toEqual([1, 2, 3, 4]);
  });

  it('delivers nothing past a checkpoint that fell while the subscriptions were listed (a rebuild began)', async () => {
    const t = setUp();
    for (let i = 0; i < 4; i++) t.log.add('OrgUpdated', ['org_a', 'org_b']);
    // Read at 4, then the read models are reset: the list may show the subscription as it was long ago.
    t.whenListing(() => t.projectTo(0));
    await t.dispatcher.deliverDue();
    expect(t.positions()).toEqual([]);
  });

  it('looks again sooner than a poll while the read models are behind, less often the longer they stay so', async () => {
    jest.useFakeTimers({ now: T0 });
    const t = setUp({ pollMs: 60_000 });
    try {
      for (let i = 0; i < 4; i++) t.log.add('OrgUpdated', ['org_a', 'org_b']);
      t.projectTo(2);
      t.dispatcher.start();
      // When each round ran (a round reads the checkpoint twice, in the same instant): 10 ms steps.
      const roundsAt: number[] = [];
      let reads = t.projectedReads();
      for (let ms = 0; ms < 3_000; ms += 10) {
        t.tick(10);
        await jest.advanceTimersByTimeAsync(10);
        if (t.projectedReads() !== reads) {
          if (roundsAt.length === 0 || ms - roundsAt[roundsAt.length - 1] > 20) roundsAt.push(ms);
          reads = t.projectedReads();
        }
      }
      // The first look again comes soon (100 ms), then each wait doubles: not a fixed interval, not a poll's 60 s.
      const gaps = roundsAt.slice(1).map((at, i) => at - roundsAt[i]);
      expect(gaps.length).toBeGreaterThanOrEqual(3);
      expect(gaps[0]).toBeLessThanOrEqual(150);
      for (let i = 1; i < gaps.length; i++) expect(gaps[i]).toBeGreaterThan(gaps[i - 1] * 1.5);
      expect(t.positions()).toEqual([1, 2]);
      // Once it moves, the next look comes 100 ms later again.
      t.projectTo(undefined);
      for (let ms = 0; ms < 3_000 && t.positions().length < 4; ms += 50) {
        t.tick(50);
        await jest.advanceTimersByTimeAsync(50);
      }
      expect(t.positions()).toEqual([1, 2, 3, 4]);
    } finally {
      await t.dispatcher.stop();
      jest.useRealTimers();
    }
  });
});

describe('dropDeletedCursors', () => {
  const cursor = (subscriptionId: string): WebhookCursor => ({
    subscriptionId,
    position: 1,
    failures: 0,
    nextAttemptAt: null,
    replayedAt: 0,
  });

  it('drops the cursors of subscriptions no longer listed, and only those', async () => {
    const deliveries = new MemoryDeliveries();
    for (const id of ['whk_a', 'whk_b', 'whk_c']) await deliveries.saveCursor(cursor(id));
    const listed = (ids: string[]) => ({
      listAll: async () => ids.map((subscriptionId) => ({ subscriptionId }) as WebhookSubscriptionView),
    });
    const at = (position: number) => async () => position;
    expect(await dropDeletedCursors(deliveries, listed(['whk_a', 'whk_c', 'whk_new']), at(1))).toBe(1);
    expect(await deliveries.cursorIds()).toEqual(['whk_a', 'whk_c']);
    expect(await dropDeletedCursors(deliveries, listed(['whk_a', 'whk_c']), at(1))).toBe(0);
  });

  it('keeps the cursors the read models cannot vouch for yet (a rebuild under way lists few subscriptions)', async () => {
    const deliveries = new MemoryDeliveries();
    await deliveries.saveCursor({ ...cursor('whk_a'), position: 50 });
    await deliveries.saveCursor({ ...cursor('whk_b'), position: 10 });
    const none = { listAll: async () => [] };
    // Re-projected up to 20: whk_b (at 10) would be listed were it alive; whk_a (at 50) may come back.
    expect(await dropDeletedCursors(deliveries, none, async () => 20)).toBe(1);
    expect(await deliveries.cursorIds()).toEqual(['whk_a']);
    // A rebuild that starts while the list is read: the lower checkpoint counts.
    let checkpoint = 60;
    const resetting = { listAll: async () => ((checkpoint = 0), []) };
    expect(await dropDeletedCursors(deliveries, resetting, async () => checkpoint)).toBe(0);
    expect(await deliveries.cursorIds()).toEqual(['whk_a']);
  });

  it('does not read the subscriptions when no cursor exists', async () => {
    const listAll = jest.fn(async () => []);
    expect(await dropDeletedCursors(new MemoryDeliveries(), { listAll }, async () => 0)).toBe(0);
    expect(listAll).not.toHaveBeenCalled();
  });
});
