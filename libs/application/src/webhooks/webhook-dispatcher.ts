import { publicEventEnvelope, type StoredEvent } from '@arbor/domain';
import type { Logger } from '../logger';
import type { EventQuery } from '../ports/event-store';
import type {
  WebhookAttempt,
  WebhookCursor,
  WebhookDeliveryStore,
  WebhookSecrets,
  WebhookSubscriptionQueries,
  WebhookSubscriptionView,
  WebhookTransport,
} from '../ports/webhooks';
import { standardWebhookHeaders } from './webhook-signature';

/** How deliveries are paced. Every duration is in milliseconds. */
export interface WebhookDispatchOptions {
  /** The first retry's delay; each further failure doubles it (±20 % jitter) up to `retryMaxMs`. Default 5,000. */
  retryBaseMs: number;
  /** The longest delay between two attempts. Default 3,600,000 (an hour). */
  retryMaxMs: number;
  /** Failed attempts in a row after which the subscription is switched off. Default 20 (about 11 hours). */
  maxFailures: number;
  /** How long one attempt may take. Default 10,000. */
  timeoutMs: number;
  /** How often the log is looked at without a wake-up (writes of other processes, retries coming due). Default 1,000. */
  pollMs: number;
  /** How long the dispatcher lease lasts unless renewed (a dead dispatcher's successor waits this long). Default 30,000. */
  leaseMs: number;
}

/** The defaults of `WebhookDispatchOptions`. */
export const DEFAULT_WEBHOOK_DISPATCH: WebhookDispatchOptions = {
  retryBaseMs: 5_000,
  retryMaxMs: 3_600_000,
  maxFailures: 20,
  timeoutMs: 10_000,
  pollMs: 1_000,
  leaseMs: 30_000,
};

/** What the dispatcher reads, writes and calls. */
export interface WebhookDispatcherDeps {
  /** The log, read by position with the event API's filters (types, organization subtree). */
  events: { readAll(query: EventQuery): Promise<StoredEvent[]>; headPosition(): Promise<number> };
  subscriptions: WebhookSubscriptionQueries;
  secrets: WebhookSecrets;
  deliveries: WebhookDeliveryStore;
  transport: WebhookTransport;
  /** Switches the subscription off, as the system, with a reason its owner reads (DisableWebhookSubscription). */
  disable(subscriptionId: string, reason: string): Promise<void>;
  log: Logger;
  /** This process's name for the lease (unique per process). */
  owner: string;
  options?: Partial<WebhookDispatchOptions>;
  /** The clock (ms since the epoch), for tests. */
  now?: () => number;
}

const BATCH = 100;
/** The longest a run of deliveries goes without its bookkeeping written (ms). */
const FLUSH_MS = 250;

/**
 * Delivers the log to webhook subscriptions (issue 14 item 6; contract section 10), at least once and in log
 * order per subscription, so in order per organization tree.
 *
 * Invariants:
 * - A subscription's cursor moves past an event only once the receiver answered it 2xx, or when the event does
 *   not match (not of its types, not in its subtree). A failure stops that subscription at that event until its
 *   retry is due: later events wait behind it, so order holds. Other subscriptions go on.
 * - A crash between a delivery and the cursor's save repeats the delivery (same `webhook-id`), never skips one.
 * - Only events at or below the head read at the start of a round are delivered in that round: every event up
 *   to the head is committed and visible (writers commit in position order), so moving a cursor to the head
 *   past events that did not match skips nothing.
 * - One dispatcher per deployment holds the lease; the others' rounds do nothing until it expires.
 */
export class WebhookDispatcher {
  private readonly options: WebhookDispatchOptions;
  private readonly now: () => number;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;
  /** The earliest retry falling due before the next poll (ms since the epoch), and its timer. */
  private earliestRetry = Infinity;
  private retryTimer: NodeJS.Timeout | undefined;
  /**
   * Subscriptions this dispatcher switched off, with their read-model version then: until the read model shows
   * a later version (the Disabled event, then an owner's Enabled), the subscription is left alone, so that a round
   * running before the Disabled event is projected does not take the still-enabled row for a fresh start.
   */
  private readonly switchedOff = new Map<string, number>();
  /** Whether this dispatcher holds the lease, and when to take or renew it next (ms since the epoch). */
  private leaseHeld = false;
  private leaseCheckAt = -Infinity;

  constructor(private readonly deps: WebhookDispatcherDeps) {
    this.options = { ...DEFAULT_WEBHOOK_DISPATCH, ...deps.options };
    this.now = deps.now ?? Date.now;
  }

  /** Starts polling (every `pollMs`) and runs a first round. */
  start(): void {
    this.timer = setInterval(() => this.wake(), this.options.pollMs);
    this.timer.unref();
    this.wake();
  }

  /** Asks for a round now (new events were committed); rounds never overlap. */
  wake(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.deliverDue()
      .catch((e: unknown) => this.deps.log.warn('webhook round failed', { error: String(e) }))
      .finally(() => {
        this.running = undefined;
        if (this.again) {
          this.again = false;
          this.wake();
        }
      });
  }

  /** Resolves once no round runs; an attempt under way ends first (at most `timeoutMs`). */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    clearTimeout(this.retryTimer);
    await this.running;
  }

  /**
   * One round: every enabled subscription, concurrently (a slow receiver delays only its own deliveries), gets
   * the events up to the head that are due. Rounds are started by `wake`; tests call this directly.
   */
  async deliverDue(): Promise<void> {
    // A round follows every commit: with nothing enabled it costs one read, and the lease is renewed only when half
    // of it has run out (a write per round would tax every write of the server).
    const enabled = (await this.deps.subscriptions.listAll()).filter((s) => s.enabled);
    if (enabled.length === 0) return;
    if (this.now() >= this.leaseCheckAt) {
      this.leaseHeld = await this.deps.deliveries.lease(this.deps.owner, this.options.leaseMs);
      // Held: renewed when half has run out. Refused: asked again a quarter of a lease later.
      this.leaseCheckAt = this.now() + this.options.leaseMs / (this.leaseHeld ? 2 : 4);
    }
    if (!this.leaseHeld) return;
    const head = await this.deps.events.headPosition();
    this.earliestRetry = Infinity;
    await Promise.all(
      enabled.map((s) =>
        this.serve(s, head).catch((e: unknown) =>
          this.deps.log.warn('webhook delivery failed', { subscriptionId: s.subscriptionId, error: String(e) }),
        ),
      ),
    );
    // A retry due before the next poll gets its own wake-up: the backoff's first steps are shorter than a poll.
    const wait = this.earliestRetry - this.now();
    if (wait < this.options.pollMs && !this.stopped) {
      clearTimeout(this.retryTimer);
      this.retryTimer = setTimeout(() => this.wake(), Math.max(0, wait));
      this.retryTimer.unref();
    }
  }

  private async serve(sub: WebhookSubscriptionView, head: number): Promise<void> {
    const { deliveries } = this.deps;
    const offAt = this.switchedOff.get(sub.subscriptionId);
    if (offAt !== undefined) {
      if (sub.version <= offAt) return;
      this.switchedOff.delete(sub.subscriptionId);
    }
    const stored = await deliveries.cursor(sub.subscriptionId);
    let cursor: WebhookCursor = stored ?? {
      subscriptionId: sub.subscriptionId,
      position: sub.createdPosition,
      failures: 0,
      nextAttemptAt: null,
      replayedAt: 0,
    };
    let changed = stored === undefined;
    if (sub.replay && sub.replay.requestedPosition > cursor.replayedAt) {
      const { fromPosition, requestedPosition } = sub.replay;
      cursor = {
        ...cursor,
        position: fromPosition - 1,
        failures: 0,
        nextAttemptAt: null,
        replayedAt: requestedPosition,
      };
      changed = true;
    }
    if (changed) await deliveries.saveCursor(cursor);
    if (cursor.nextAttemptAt !== null && Date.parse(cursor.nextAttemptAt) > this.now())
      return void (this.earliestRetry = Math.min(this.earliestRetry, Date.parse(cursor.nextAttemptAt)));

    // The delivery log and the cursor are written together, per batch or every FLUSH_MS: per delivery they cost more
    // than the delivery itself to a local receiver. A crash loses at most that much bookkeeping, and the
    // deliveries it covered are repeated (same webhook-id): at least once still holds.
    const attempts: Array<Omit<WebhookAttempt, 'attemptId'>> = [];
    let flushedAt = performance.now();
    const flush = async () => {
      await deliveries.saveProgress(cursor, attempts.splice(0));
      flushedAt = performance.now();
    };
    let secrets: string[] | undefined;
    while (cursor.position < head && !this.stopped) {
      const batch = await this.deps.events.readAll({
        after: cursor.position,
        limit: BATCH,
        orgId: sub.orgId,
        types: sub.eventTypes.length > 0 ? sub.eventTypes : undefined,
      });
      for (const event of batch) {
        if (event.position > head || this.stopped) return flush();
        secrets ??= await this.secretsOf(sub.subscriptionId);
        // Deleted since the round began (its secrets go first): nothing to send; the next round will not list it.
        if (secrets.length === 0) return flush();
        const attempt = await this.attempt(sub, event, cursor.failures + 1, secrets);
        attempts.push(attempt);
        if (attempt.outcome === 'delivered') {
          cursor = { ...cursor, position: event.position, failures: 0, nextAttemptAt: null };
          if (performance.now() - flushedAt > FLUSH_MS) await flush();
          continue;
        }
        const failures = cursor.failures + 1;
        if (failures >= this.options.maxFailures) {
          // Saved as a fresh start: once its owner enables it again, the same event gets a full set of retries.
          cursor = { ...cursor, failures: 0, nextAttemptAt: null };
          await flush();
          const reason = `${failures} failed attempts in a row at event ${event.id} (position ${event.position}); the last: ${attempt.error}`;
          this.switchedOff.set(sub.subscriptionId, sub.version);
          await this.deps.disable(sub.subscriptionId, reason);
          this.deps.log.warn('webhook subscription switched off', { subscriptionId: sub.subscriptionId, failures });
          return;
        }
        const due = this.now() + this.retryDelay(failures);
        this.earliestRetry = Math.min(this.earliestRetry, due);
        cursor = { ...cursor, failures, nextAttemptAt: new Date(due).toISOString() };
        return flush();
      }
      // Nothing else up to the head is this subscription's: the next round starts from there.
      if (batch.length < BATCH) cursor = { ...cursor, position: head };
      await flush();
    }
  }

  /** The subscription's secrets that still sign: the current one, and a rotated-out one until it expires. */
  private async secretsOf(subscriptionId: string): Promise<string[]> {
    const now = this.now();
    return (await this.deps.secrets.getWebhookSecrets(subscriptionId))
      .filter((s) => s.expiresAt === null || Date.parse(s.expiresAt) > now)
      .map((s) => s.secret);
  }

  /** One attempt at one event: signed, sent, and described as the delivery log keeps it. */
  private async attempt(
    sub: WebhookSubscriptionView,
    event: StoredEvent,
    attempt: number,
    secrets: string[],
  ): Promise<Omit<WebhookAttempt, 'attemptId'>> {
    const sentAt = this.now();
    const body = JSON.stringify(publicEventEnvelope(event));
    const headers = {
      ...standardWebhookHeaders(secrets, event.id, new Date(sentAt), body),
      'content-type': 'application/json',
      'user-agent': 'Arbor-Webhooks/1',
    };
    const started = performance.now();
    const response = await this.deps.transport.send({ url: sub.url, headers, body, timeoutMs: this.options.timeoutMs });
    const delivered = 'status' in response && response.status >= 200 && response.status < 300;
    return {
      subscriptionId: sub.subscriptionId,
      eventId: event.id,
      eventType: event.type,
      position: event.position,
      attempt,
      attemptedAt: new Date(sentAt).toISOString(),
      outcome: delivered ? 'delivered' : 'failed',
      httpStatus: 'status' in response ? response.status : null,
      error: delivered ? null : 'status' in response ? `HTTP ${response.status}` : response.error,
      durationMs: performance.now() - started,
    };
  }

  /** `retryBaseMs · 2^(failures − 1)`, at most `retryMaxMs`, ±20 % so that retries of many receivers spread out. */
  private retryDelay(failures: number): number {
    const { retryBaseMs, retryMaxMs } = this.options;
    const delay = Math.min(retryMaxMs, retryBaseMs * 2 ** Math.min(failures - 1, 30));
    return Math.round(delay * (0.8 + Math.random() * 0.4));
  }
}
