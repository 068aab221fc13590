import { IamError } from '@arbor/domain';

/** How a CheckpointWatermark learns where the read models are. */
export interface CheckpointWatermarkOptions {
  /** Reads the read models' checkpoint (a log position, 0 when empty). Its failures are retried by the next poll. */
  readCheckpoint: () => Promise<number>;
  /** How often the checkpoint is read while anyone waits, in ms (nothing is read while nobody waits). */
  pollIntervalMs: number;
  /**
   * True when a read may finish after a later announcement (a query on another connection than the one that hears
   * the announcements, as on PostgreSQL): a value read then only raises what is known, and only announcements
   * (`observe`) may lower it (a rebuild announces 0). False (the default): reads are the current value.
   */
  readsMayLag?: boolean;
  /**
   * Whether a wait that starts the polling reads the checkpoint at once (default true) or only after the first
   * interval (where announcements are the usual wake-up and a read per write would cost more than it saves).
   */
  pollAtOnce?: boolean;
  /**
   * Called after a scheduled read (not the one a new wait starts with) that left a waiter behind, i.e. at most once
   * per `pollIntervalMs` while a wait lasts longer than that. The embedded worker asks its writer's projector to
   * catch up now: in one process, a waiting request does so itself (Projector.waitFor), and a projector backing
   * off after a failure would otherwise answer the worker's waiters only at its next retry, possibly too late.
   * Must not throw.
   */
  onBehind?: () => void;
  /**
   * What the position is of, for the IAM_ERR_UNAVAILABLE messages: "The <subject> did not reach position P..."
   * (default `read models`; the embedded workers also wait for the event log's `durable position`).
   */
  subject?: string;
}

interface Waiter {
  position: number;
  resolve: () => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

/**
 * Read-your-writes for a process that does not run the projector itself (a gateway, an embedded HTTP worker):
 * `waitFor(position)` resolves once the read models' checkpoint has reached `position`.
 *
 * Two ways in: whoever hears of a new checkpoint (PostgreSQL's NOTIFY, the embedded writer's message to its
 * workers) calls `observe`, which wakes the waiters at once; and while at least one request waits, the checkpoint
 * is read every `pollIntervalMs`, so a lost or missing announcement only delays an answer. The last value seen is
 * the current one, not a maximum: a rebuild lowers the checkpoint, and the waiters then wait for the replay.
 * On timeout, and for waiters still pending at `close`, `waitFor` rejects with IAM_ERR_UNAVAILABLE.
 */
export class CheckpointWatermark {
  private readonly waiters = new Set<Waiter>();
  /** The checkpoint as last observed (-1: not yet). */
  private known = -1;
  private pollTimer: NodeJS.Timeout | undefined;
  private polling = false;
  private closed = false;

  constructor(private readonly options: CheckpointWatermarkOptions) {}

  /** The checkpoint as last observed or read; -1 before the first. */
  get observed(): number {
    return this.known;
  }

  /** A checkpoint heard of (announced after its commit): resolves every waiter at or below it. */
  observe(position: number): void {
    this.known = position;
    if (this.waiters.size === 0) return;
    for (const waiter of [...this.waiters]) {
      if (waiter.position <= position) {
        this.settle(waiter);
        waiter.resolve();
      }
    }
  }

  /** Resolves once the checkpoint is at least `position`; rejects with IAM_ERR_UNAVAILABLE after `timeoutMs`. */
  waitFor(position: number, timeoutMs = 10_000): Promise<void> {
    if (this.closed)
      return Promise.reject(unavailable(`The ${this.options.subject ?? 'read models'} watermark is closed.`));
    if (this.known >= position) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        position,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.settle(waiter);
          reject(
            unavailable(
              `The ${this.options.subject ?? 'read models'} did not reach position ${position} within ${timeoutMs} ms.`,
            ),
          );
        }, timeoutMs),
      };
      this.waiters.add(waiter);
      if (this.pollTimer === undefined) {
        this.pollTimer = setInterval(() => void this.poll(true), this.options.pollIntervalMs);
        if (this.options.pollAtOnce ?? true) void this.poll(false);
      }
    });
  }

  /** Reads the checkpoint now (also when nobody waits) and returns it. */
  async refresh(): Promise<number> {
    const position = await this.options.readCheckpoint();
    this.observe(this.options.readsMayLag ? Math.max(position, this.known) : position);
    return position;
  }

  /** Stops polling; pending waiters are rejected with IAM_ERR_UNAVAILABLE. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const waiter of [...this.waiters]) {
      this.settle(waiter);
      waiter.reject(unavailable(`The ${this.options.subject ?? 'read models'} watermark is closed.`));
    }
  }

  private async poll(scheduled: boolean): Promise<void> {
    if (this.polling || this.closed) return;
    this.polling = true;
    try {
      await this.refresh();
      if (scheduled && this.waiters.size > 0) this.options.onBehind?.();
    } catch {
      // Unreachable for now: the next tick retries, the waiter's timeout reports.
    } finally {
      this.polling = false;
    }
  }

  private settle(waiter: Waiter): void {
    clearTimeout(waiter.timer);
    this.waiters.delete(waiter);
    if (this.waiters.size === 0 && this.pollTimer !== undefined) {
      clearInterval(this.pollTimer);
      this.pollTimer = undefined;
    }
  }
}

const unavailable = (message: string): IamError => new IamError('IAM_ERR_UNAVAILABLE', message);
