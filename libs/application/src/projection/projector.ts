import { IamError, sealedPersonalDataOf, type StoredEvent } from '@arbor/domain';
import type { Bus } from '../ports/bus';
import type { EventStore } from '../ports/event-store';
import type { ProjectableEvent, ReadModels } from '../ports/read-models';
import type { Logger } from '../logger';
import type { PersonalDataCipher } from '../security/personal-data-cipher';

/** Retries after a failed catch-up: the first after this many milliseconds, doubling up to RETRY_MAX_MS. */
export const PROJECTION_RETRY_FIRST_MS = 100;
export const PROJECTION_RETRY_MAX_MS = 10_000;
/** How long `stop` waits for the catch-up under way before the caller may close the stores under it. */
const STOP_WAIT_MS = 5_000;
/**
 * After applying deliveries, the log is read for what they did not carry at most once per this many milliseconds
 * (see `drain`): a read right after each one cost ~90 us of the writer's event loop per creation at an even 500/s,
 * each read finding nothing.
 */
export const PROJECTION_LOG_SWEEP_MS = 20;

interface Waiter {
  position: number;
  resolve: () => void;
  reject: (e: unknown) => void;
  timer: NodeJS.Timeout;
}

/**
 * Turns the event log into read models. The log is the source: the projector always continues from the
 * read models' own checkpoint and reads the log to its end, so deliveries from the bus only wake it up (and
 * spare reading back what they carry when they continue the checkpoint exactly). Batches are applied with
 * their checkpoint in one read-model transaction, so a crash at any point resumes without losing or doubling
 * anything. A failed catch-up (a full disk, a store down) is retried by the projector itself, with a backoff
 * doubling from PROJECTION_RETRY_FIRST_MS to PROJECTION_RETRY_MAX_MS, until it succeeds: no new event is needed
 * to wake it.
 */
export class Projector {
  private checkpoint = 0;
  private draining: Promise<void> | undefined;
  private again = false;
  private waiters: Waiter[] = [];
  private unsubscribe: (() => void) | undefined;
  private failure: unknown;
  private retryTimer: NodeJS.Timeout | undefined;
  private retryDelayMs = 0;
  /** The pending read of the log after applied deliveries (see `drain`). */
  private sweepTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  /** Deliveries gathered in this turn of the event loop, contiguous; undefined once they left a gap (see deliver). */
  private delivered: StoredEvent[] | undefined = [];
  private deliveryTurn: NodeJS.Immediate | undefined;
  /** Set during rebuild() only. */
  private onProgress: ((position: number) => void) | undefined;
  private readonly checkpointListeners = new Set<(position: number) => void>();

  constructor(
    private readonly deps: {
      store: EventStore;
      readModels: ReadModels;
      cipher: PersonalDataCipher;
      bus: Bus;
      log: Logger;
      batchSize?: number;
      /** Default PROJECTION_LOG_SWEEP_MS. */
      logSweepMs?: number;
    },
  ) {}

  async start(): Promise<void> {
    this.checkpoint = await this.deps.readModels.checkpoint();
    this.unsubscribe = this.deps.bus.subscribe((events) => this.deliver(events));
    await this.catchUp();
  }

  /**
   * A catch-up from a periodic poll of the log: none while a failed one waits for its retry (the backoff of
   * PROJECTION_RETRY_FIRST_MS..MAX_MS holds, a 100 ms poll does not turn an outage into ten failures a second).
   */
  poll(): void {
    if (this.retryTimer === undefined && !this.stopped) void this.catchUp();
  }

  /**
   * Stops following the log: no retry, no delivery, waiters refused (503). Resolves once a catch-up under way has
   * ended (after its batch in flight: it reads no further batch), so that the stores may then close under nobody;
   * at the latest after STOP_WAIT_MS (a batch stuck on a store that does not answer is cut short by the close).
   */
  async stop(): Promise<void> {
    this.stopped = true;
    clearImmediate(this.deliveryTurn);
    this.deliveryTurn = undefined;
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    clearTimeout(this.sweepTimer);
    this.sweepTimer = undefined;
    this.unsubscribe?.();
    for (const w of this.waiters.splice(0)) {
      clearTimeout(w.timer);
      w.reject(new IamError('IAM_ERR_UNAVAILABLE', 'The projector stopped.'));
    }
    if (this.draining === undefined) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.draining,
      new Promise<void>((resolve) => (timer = setTimeout(resolve, STOP_WAIT_MS))),
    ]).finally(() => clearTimeout(timer));
  }

  get position(): number {
    return this.checkpoint;
  }

  /**
   * Calls `listener` with the read models' checkpoint after every batch applied (and with 0 when a rebuild has
   * emptied them), once that batch is committed: the embedded writer tells its HTTP workers this way. Returns
   * the unsubscribe function. A listener must not throw.
   */
  onCheckpoint(listener: (position: number) => void): () => void {
    this.checkpointListeners.add(listener);
    return () => this.checkpointListeners.delete(listener);
  }

  /** Ready when the last catch-up succeeded (a failed one is retried on its own, see the class). */
  get healthy(): boolean {
    return this.failure === undefined;
  }

  /** What the last catch-up failed with, while not `healthy` (`undefined` once one succeeds). */
  get lastFailure(): unknown {
    return this.failure;
  }

  /** Resolves once the read models include `position`: the read-your-writes guarantee of every write. */
  waitFor(position: number, timeoutMs = 10_000): Promise<void> {
    if (this.checkpoint >= position) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        position,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.waiters = this.waiters.filter((w) => w !== waiter);
          reject(new IamError('IAM_ERR_UNAVAILABLE', 'The read models did not catch up in time; the write is stored.'));
        }, timeoutMs),
      };
      this.waiters.push(waiter);
      // Deliveries gathered this turn are applied at its end, and the log is read after them while anyone waits.
      if (this.deliveryTurn === undefined) void this.catchUp();
    });
  }

  /**
   * Drops the read models and replays the whole log into them. `onProgress` (optional) is called with the
   * checkpoint after every batch applied during the replay. A failure is not thrown: it leaves `healthy` false
   * (and is retried, see the class), so a caller that must know checks `healthy` once this resolves.
   */
  async rebuild(options: { onProgress?: (position: number) => void } = {}): Promise<void> {
    await this.draining;
    clearTimeout(this.sweepTimer);
    this.sweepTimer = undefined;
    // The reset runs as the drain under way: a delivery, poll, sweep or waiter meanwhile waits for it (`again`)
    // instead of applying events from the old checkpoint to the emptied read models.
    this.draining = (async () => {
      await this.deps.readModels.reset();
      this.checkpoint = 0;
      for (const listener of this.checkpointListeners) listener(0);
    })().finally(() => {
      this.draining = undefined;
    });
    await this.draining;
    this.onProgress = options.onProgress;
    try {
      await this.catchUp();
    } finally {
      this.onProgress = undefined;
    }
  }

  catchUp(): Promise<void> {
    if (this.draining) {
      this.again = true;
      return this.draining;
    }
    return this.startDrain(undefined);
  }

  /**
   * Deliveries are gathered for one turn of the event loop and applied as one batch: the commands of one group
   * commit publish one after another as their callers resume, and one read-model transaction for all of them costs
   * less than one each (a commit, and the rows read back from the log). Gathered deliveries that continue the
   * checkpoint exactly are applied as they are, and the log is read for anything after them within
   * PROJECTION_LOG_SWEEP_MS; anything else (a gap, a delivery during a catch-up) is read from the log at once.
   */
  private deliver(events: StoredEvent[]): void {
    if (this.draining) {
      this.again = true;
      return;
    }
    if (events.length > 0 && this.delivered !== undefined) {
      const next = (this.delivered.at(-1)?.position ?? this.checkpoint) + 1;
      if (events[0].position === next) this.delivered.push(...events);
      else this.delivered = undefined;
    }
    this.deliveryTurn ??= setImmediate(() => {
      this.deliveryTurn = undefined;
      const delivered = this.delivered;
      this.delivered = [];
      if (this.stopped) return;
      if (this.draining) {
        this.again = true;
        return;
      }
      const continues =
        delivered !== undefined && delivered.length > 0 && delivered[0].position === this.checkpoint + 1;
      void this.startDrain(continues ? delivered : undefined);
    });
  }

  private startDrain(first: StoredEvent[] | undefined): Promise<void> {
    this.draining = this.drain(first).finally(() => {
      this.draining = undefined;
    });
    return this.draining;
  }

  private async drain(first: StoredEvent[] | undefined): Promise<void> {
    const limit = this.deps.batchSize ?? 1000;
    try {
      if (first) {
        await this.applyBatch(first);
        // Then the log, soon: the deliveries tell of what was published, and a commit may never be (a process that
        // died between its commit and the publication) or come from another process (the CLI beside the embedded
        // server). When nobody waits beyond what was applied, that read is not hurried: under a steady stream of
        // single commits it runs once per PROJECTION_LOG_SWEEP_MS instead of once per commit.
        // Not while a failed read waits for its retry: the read runs now, and a failure again keeps the projector
        // unhealthy (the apply above cleared it) with its backoff.
        if (!this.again && this.waiters.length === 0 && this.retryTimer === undefined) {
          this.scheduleSweep();
          return;
        }
      }
      do {
        this.again = false;
        for (;;) {
          if (this.stopped) return;
          const batch = await this.deps.store.readAll({ after: this.checkpoint, limit });
          if (batch.length === 0) break;
          await this.applyBatch(batch);
        }
      } while (this.again);
      // Caught up: whatever failed before has passed.
      this.failure = undefined;
      this.retryDelayMs = 0;
    } catch (e) {
      this.fail(e);
    }
  }

  private scheduleSweep(): void {
    if (this.stopped || this.sweepTimer !== undefined) return;
    this.sweepTimer = setTimeout(() => {
      this.sweepTimer = undefined;
      if (!this.stopped && this.retryTimer === undefined) void this.catchUp();
    }, this.deps.logSweepMs ?? PROJECTION_LOG_SWEEP_MS);
    this.sweepTimer.unref();
  }

  private async applyBatch(batch: StoredEvent[]): Promise<void> {
    // Personal data of the whole batch opens with one vault read.
    const sealed = batch.flatMap((event, index) => {
      const personal = sealedPersonalDataOf(event); // the catalogue says which events carry it
      return personal ? [{ index, ...personal }] : [];
    });
    const opened = await this.deps.cipher.openMany(sealed);
    const projectable: ProjectableEvent[] = batch.slice();
    sealed.forEach((item, i) => (projectable[item.index] = { ...batch[item.index], personal: opened[i] }));
    this.checkpoint = await this.deps.readModels.apply(projectable);
    this.failure = undefined;
    this.release();
    for (const listener of this.checkpointListeners) listener(this.checkpoint);
    this.onProgress?.(this.checkpoint);
  }

  private fail(e: unknown): void {
    this.failure = e;
    // Stopping: a batch cut short by the close is no failure to report; the next start continues from the checkpoint.
    if (this.stopped) return;
    this.retryDelayMs = Math.min(
      this.retryDelayMs === 0 ? PROJECTION_RETRY_FIRST_MS : this.retryDelayMs * 2,
      PROJECTION_RETRY_MAX_MS,
    );
    this.deps.log.error('projection failed; retrying', { error: String(e), retryInMs: this.retryDelayMs });
    if (this.stopped || this.retryTimer !== undefined) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (!this.stopped) void this.catchUp();
    }, this.retryDelayMs);
    // A pending retry does not keep a stopping process alive.
    this.retryTimer.unref();
  }

  private release(): void {
    if (this.waiters.length === 0) return;
    const still: Waiter[] = [];
    for (const w of this.waiters) {
      if (w.position <= this.checkpoint) {
        clearTimeout(w.timer);
        w.resolve();
      } else still.push(w);
    }
    this.waiters = still;
  }
}
