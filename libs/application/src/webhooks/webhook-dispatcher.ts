import type { StoredEvent } from '@arbor/domain';
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
import {
  DEFAULT_WEBHOOK_DISPATCH,
  attemptDelivery,
  retryDelay,
  type WebhookDispatchOptions,
} from './webhook-delivery-attempt';

export { DEFAULT_WEBHOOK_DISPATCH, type WebhookDispatchOptions } from './webhook-delivery-attempt';

/** What the dispatcher reads, writes and calls. */
export interface WebhookDispatcherDeps {
  /** The log, read by position with the event API's filters (types, organization subtree). */
  events: { readAll(query: EventQuery): Promise<StoredEvent[]>; headPosition(): Promise<number> };
  /**
   * The log position the read models (so `subscriptions`) hold: no event after it is delivered, since the change of a
   * subscription it may be (a switch-off by a move, a narrower filter, a new URL) is not in the list read yet.
   */
  projectedPosition(): Promise<number>;
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
 * The longest a subscription's run of deliveries goes on without looking at the subscription and its secrets again
 * (ms, by the dispatcher's clock): a delete, a switch-off or a change by its owner stops it after at most this and
 * the attempt under way.
 */
const RECHECK_MS = 250;
/**
 * How soon a round looks again when the read models were behind the log (ms): sooner than a poll, then twice as
 * late each time they have not moved (a projector down or rebuilding), up to `pollMs`.
 */
const PROJECTION_LAG_RECHECK_MS = 100;

/**
 * Delivers the log to webhook subscriptions (issue 14 item 6; contract section 10), at least once and in log
 * order per subscription, so in order per organization tree.
 *
 * Invariants:
 * - A subscription's cursor moves past an event only once the receiver answered it 2xx, or when the event does
 *   not match (not of its types, not in its subtree). A failure stops that subscription at that event until its
 *   retry is due: later events wait behind it, so order holds. Other subscriptions go on.
 * - A crash between a delivery and the cursor's save repeats the delivery (same `webhook-id`), never skips one.
 * - Each subscription has its own lane (`serve`), at most one per subscription, so at most one request in flight
 *   each: a round starts a lane for every enabled subscription without one and waits for none of them, so a slow
 *   receiver (or a long replay) holds up only its own deliveries (contract section 10, "Isolation").
 * - A lane delivers only events at or below the head read by the round that started it, never past the read models'
 *   checkpoint (`projectedPosition`, read before the subscriptions): every event up to the head
 *   is committed and visible (writers commit in position order), so moving a cursor to the head past events that
 *   did not match skips nothing. A round that finds a lane still running asks it to run again with a new head.
 * - A lane stops when its subscription was deleted, switched off or changed (its version moved), or the lease was
 *   lost, seen at most RECHECK_MS and the attempt under way later; the next round serves the subscription as it is.
 * - One dispatcher per deployment holds the lease; the others' rounds do nothing until it expires. Rounds run every
 *   `pollMs` whatever the lanes do, so the lease is renewed while a lane runs for longer than it lasts.
 */
export class WebhookDispatcher {
  private readonly options: WebhookDispatchOptions;
  private readonly now: () => number;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;
  /** The lanes running, by subscription id; `again`: a round came meanwhile, so another round follows its end. */
  private readonly lanes = new Map<string, { done: Promise<void>; again: boolean }>();
  /** The earliest retry falling due before the next poll (ms since the epoch), and its timer. */
  private earliestRetry = Infinity;
  private retryTimer: NodeJS.Timeout | undefined;
  /**
   * Each subscription's version when a lane last served it: a later one (its owner enabled it again, changed its
   * URL, ...) ends the wait for a retry, which then comes at once with a fresh count (in this process's memory).
   */
  private readonly servedVersion = new Map<string, number>();
  /**
   * Subscriptions this dispatcher switched off, with their read-model version then: until the read model shows
   * a later version (the Disabled event, then an owner's Enabled), the subscription is left alone, so that a round
   * running before the Disabled event is projected does not take the still-enabled row for a fresh start.
   */
  private readonly switchedOff = new Map<string, number>();
  /** Whether this dispatcher holds the lease, and when to take or renew it next (ms since the epoch). */
  private leaseHeld = false;
  private leaseCheckAt = -Infinity;
  /** The read models' checkpoint at the last round, the highest seen, and the wait before looking again (ms). */
  private lastProjected = -1;
  private highestProjected = 0;
  private lagRecheckMs = PROJECTION_LAG_RECHECK_MS;

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

  /** Asks for a round now (new events were committed); rounds never overlap (the lanes they start may). */
  wake(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.round()
      .then(() => undefined)
      .catch((e: unknown) => this.deps.log.warn('webhook round failed', { error: String(e) }))
      .finally(() => {
        this.running = undefined;
        if (this.again) {
          this.again = false;
          this.wake();
        }
      });
  }

  /**
   * Resolves once no round and no lane runs; an attempt under way ends first (at most `timeoutMs`). A lease held is
   * then given up, so that the next dispatcher (this process restarted, or another command service) delivers at
   * its next round rather than a lease later; a failure to give it up leaves it to expire.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    clearTimeout(this.retryTimer);
    await this.running;
    await Promise.all([...this.lanes.values()].map((lane) => lane.done));
    if (!this.leaseHeld) return;
    this.leaseHeld = false;
    await this.deps.deliveries.releaseLease(this.deps.owner).catch(() => undefined);
  }

  /**
   * One round (see `round`); resolves once the lanes it started have ended (a lane already running is asked to run
   * again, not waited for). Rounds are started by `wake`; tests call this directly.
   */
  async deliverDue(): Promise<void> {
    await Promise.all(await this.round());
  }

  /**
   * Starts a lane (`serve`) for every enabled subscription that has none, each with the events up to the head that
   * are due; returns their ends. A round follows every commit: with nothing enabled it costs one read, and the lease
   * is renewed only when half of it has run out (a write per round would tax every write of the server).
   */
  private async round(): Promise<Array<Promise<void>>> {
    // Read before the list, so the list is at least as fresh as every event delivered below; and after it, for a
    // rebuild that began meanwhile (the checkpoint fell: the list may show subscriptions as they were long ago).
    const before = await this.deps.projectedPosition();
    const listed = await this.deps.subscriptions.listAll();
    const projected = Math.min(before, await this.deps.projectedPosition());
    // During a rebuild the list lacks subscriptions not re-projected yet: what is remembered of them stays.
    if (projected >= this.highestProjected) this.forgetDeleted(listed);
    this.highestProjected = Math.max(this.highestProjected, projected);
    const enabled = listed.filter((s) => s.enabled);
    if (enabled.length === 0) return [];
    if (this.now() >= this.leaseCheckAt) {
      this.leaseHeld = await this.deps.deliveries.lease(this.deps.owner, this.options.leaseMs);
      // Held: renewed when half has run out. Refused: asked again a quarter of a lease later.
      this.leaseCheckAt = this.now() + this.options.leaseMs / (this.leaseHeld ? 2 : 4);
    }
    if (!this.leaseHeld) return [];
    const logHead = await this.deps.events.headPosition();
    const head = Math.min(logHead, projected);
    if (logHead > head) {
      this.lagRecheckMs =
        projected === this.lastProjected
          ? Math.min(this.options.pollMs, this.lagRecheckMs * 2)
          : PROJECTION_LAG_RECHECK_MS;
      this.wakeAt(this.now() + this.lagRecheckMs);
    }
    this.lastProjected = projected;
    const started: Array<Promise<void>> = [];
    for (const sub of enabled) {
      const running = this.lanes.get(sub.subscriptionId);
      if (running) {
        running.again = true;
        continue;
      }
      const lane = { again: false, done: Promise.resolve() };
      lane.done = this.serve(sub, head)
        .catch((e: unknown) =>
          this.deps.log.warn('webhook delivery failed', { subscriptionId: sub.subscriptionId, error: String(e) }),
        )
        .finally(() => {
          this.lanes.delete(sub.subscriptionId);
          if (lane.again) this.wake();
        });
      this.lanes.set(sub.subscriptionId, lane);
      started.push(lane.done);
    }
    return started;
  }

  /**
   * A round at `due` (ms since the epoch) when that comes before the next poll: a retry (the backoff's first steps
   * are shorter than a poll), or another look once the read models caught up with the log.
   */
  private wakeAt(due: number): void {
    const wait = due - this.now();
    if (this.stopped || wait >= this.options.pollMs || due >= this.earliestRetry) return;
    clearTimeout(this.retryTimer);
    this.earliestRetry = due;
    this.retryTimer = setTimeout(
      () => {
        this.earliestRetry = Infinity;
        this.wake();
      },
      Math.max(0, wait),
    );
    this.retryTimer.unref();
  }

  /** What this process remembers of subscriptions (`servedVersion`, `switchedOff`) goes once they are deleted. */
  private forgetDeleted(listed: readonly WebhookSubscriptionView[]): void {
    if (this.servedVersion.size + this.switchedOff.size === 0) return;
    const ids = new Set(listed.map((s) => s.subscriptionId));
    for (const memory of [this.servedVersion, this.switchedOff])
      for (const id of memory.keys()) if (!ids.has(id)) memory.delete(id);
  }

  /** Whether a lane serving `sub` may go on: the lease held, the subscription unchanged, enabled, not deleted. */
  private async stillServes(sub: WebhookSubscriptionView): Promise<boolean> {
    if (!this.leaseHeld || this.stopped) return false;
    const now = await this.deps.subscriptions.get(sub.subscriptionId);
    return now !== undefined && now.enabled && now.version === sub.version;
  }

  /** One lane: the subscription's due events up to `head`, in order, until one fails or the lane must stop. */
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
        // Never ahead of the cursor: events after it and before `fromPosition` were not delivered yet.
        position: Math.min(cursor.position, fromPosition - 1),
        failures: 0,
        nextAttemptAt: null,
        replayedAt: requestedPosition,
      };
      changed = true;
    }
    const servedVersion = this.servedVersion.get(sub.subscriptionId);
    this.servedVersion.set(sub.subscriptionId, sub.version);
    if (servedVersion !== undefined && sub.version > servedVersion && cursor.failures > 0) {
      // Changed by its owner since (a URL fixed, enabled again): tried at once, with a fresh count.
      cursor = { ...cursor, failures: 0, nextAttemptAt: null };
      changed = true;
    }
    if (changed) await deliveries.saveCursor(cursor);
    if (cursor.nextAttemptAt !== null && Date.parse(cursor.nextAttemptAt) > this.now())
      return this.wakeAt(Date.parse(cursor.nextAttemptAt));

    // The delivery log and the cursor are written together, per batch or every FLUSH_MS: per delivery they cost more
    // than the delivery itself to a local receiver. A crash loses at most that much bookkeeping, and the
    // deliveries it covered are repeated (same webhook-id): at least once still holds.
    const attempts: Array<Omit<WebhookAttempt, 'attemptId'>> = [];
    let flushedAt = performance.now();
    const flush = async () => {
      await deliveries.saveProgress(cursor, attempts.splice(0));
      flushedAt = performance.now();
    };
    let secrets: string[] = [];
    let checkedAt = -Infinity;
    while (cursor.position < head && !this.stopped) {
      const batch = await this.deps.events.readAll({
        after: cursor.position,
        limit: BATCH,
        orgId: sub.orgId,
        types: sub.eventTypes.length > 0 ? sub.eventTypes : undefined,
      });
      for (const event of batch) {
        if (event.position > head || this.stopped) return flush();
        if (this.now() - checkedAt >= RECHECK_MS) {
          // The secrets go first when a subscription is deleted (the read model may show it later): none, no send.
          secrets = await this.secretsOf(sub.subscriptionId);
          if (secrets.length === 0 || !(await this.stillServes(sub))) return flush();
          checkedAt = this.now();
        }
        const attempt = await attemptDelivery(this.deps.transport, sub, event, {
          attempt: cursor.failures + 1,
          secrets,
          sentAt: this.now(),
          timeoutMs: this.options.timeoutMs,
        });
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
          // Left alone only once switched off: a failed switch-off (a store error) leaves it served, with fresh
          // retries, and the next run of failures tries the switch-off again.
          await this.deps.disable(sub.subscriptionId, reason);
          this.switchedOff.set(sub.subscriptionId, sub.version);
          this.deps.log.warn('webhook subscription switched off', { subscriptionId: sub.subscriptionId, failures });
          return;
        }
        const due = this.now() + retryDelay(failures, this.options);
        cursor = { ...cursor, failures, nextAttemptAt: new Date(due).toISOString() };
        await flush();
        return this.wakeAt(due);
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
}
