import { IamError } from '@arbor/domain';
import type { Collection } from 'mongodb';
import { PROJECTOR_CHECKPOINT, type CheckpointDoc } from './mongo-collections';
import type { MongoReadModels } from './mongo-read-models';

export interface MongoProjectionWatermarkOptions {
  /** How often the checkpoint is read while anyone waits, in ms. Default 25. */
  pollIntervalMs?: number;
}

interface Waiter {
  position: number;
  resolve: () => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

/**
 * Read-your-writes for gateways over MongoDB read models: `waitFor(position)` resolves once the projector's
 * checkpoint document has reached `position`. The PostgreSQL watermark is woken by NOTIFY; MongoDB's equivalent,
 * a change stream, needs a replica set and FerretDB has none, so this one polls: while at least one request
 * waits, the checkpoint is read every `pollIntervalMs` (25 ms by default: one small `findOne` by `_id` per
 * interval and gateway, however many requests wait, and nothing at all while none does). A write therefore
 * answers on average half an interval after the projector wrote its checkpoint. The checkpoint is written last
 * in a batch (MongoReadModels.apply), so once it covers a position every document of that position is written.
 * On timeout `waitFor` rejects with IAM_ERR_UNAVAILABLE, as the PostgreSQL watermark does.
 */
export class MongoProjectionWatermark {
  private readonly checkpoints: Collection<CheckpointDoc>;
  private readonly pollIntervalMs: number;
  private readonly waiters = new Set<Waiter>();
  /** The checkpoint as last read (-1: not yet). */
  private known = -1;
  private pollTimer: NodeJS.Timeout | undefined;
  private polling = false;
  private closed = false;

  constructor(readModels: MongoReadModels, options: MongoProjectionWatermarkOptions = {}) {
    this.checkpoints = readModels.collections.checkpoints;
    this.pollIntervalMs = options.pollIntervalMs ?? 25;
  }

  /** Resolves once the checkpoint is at least `position`; rejects with IAM_ERR_UNAVAILABLE after `timeoutMs`. */
  waitFor(position: number, timeoutMs = 10_000): Promise<void> {
    if (this.closed) return Promise.reject(unavailable('The projection watermark is closed.'));
    if (this.known >= position) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        position,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.settle(waiter);
          reject(unavailable(`The read models did not reach position ${position} within ${timeoutMs} ms.`));
        }, timeoutMs),
      };
      this.waiters.add(waiter);
      if (this.pollTimer === undefined) {
        this.pollTimer = setInterval(() => void this.poll(), this.pollIntervalMs);
        void this.poll();
      }
    });
  }

  /** Stops polling; pending waiters are rejected with IAM_ERR_UNAVAILABLE. The read models stay open. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const waiter of [...this.waiters]) {
      this.settle(waiter);
      waiter.reject(unavailable('The projection watermark is closed.'));
    }
  }

  private async poll(): Promise<void> {
    if (this.polling || this.closed) return;
    this.polling = true;
    try {
      const doc = await this.checkpoints.findOne({ _id: PROJECTOR_CHECKPOINT });
      // A rebuild lowers the checkpoint: the value read is the current one (one reader, reads in order).
      this.known = doc?.position ?? 0;
      for (const waiter of [...this.waiters]) {
        if (waiter.position <= this.known) {
          this.settle(waiter);
          waiter.resolve();
        }
      }
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
