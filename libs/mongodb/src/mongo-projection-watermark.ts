import { CheckpointWatermark } from '@arbor/application';
import { PROJECTOR_CHECKPOINT } from './mongo-collections';
import type { MongoReadModels } from './mongo-read-models';

export interface MongoProjectionWatermarkOptions {
  /** How often the checkpoint is read while anyone waits, in ms. Default 25. */
  pollIntervalMs?: number;
}

/**
 * Read-your-writes for gateways over MongoDB read models: `waitFor(position)` resolves once the projector's
 * checkpoint document has reached `position`. The PostgreSQL watermark is woken by NOTIFY; MongoDB's equivalent,
 * a change stream, needs a replica set and FerretDB has none, so this one only polls (CheckpointWatermark): while at
 * least one request waits, the checkpoint is read every `pollIntervalMs` (25 ms by default: one small `findOne` by
 * `_id` per interval and gateway, however many requests wait, and nothing at all while none does). A write therefore
 * answers on average half an interval after the projector wrote its checkpoint. The checkpoint is written last
 * in a batch (MongoReadModels.apply), so once it covers a position every document of that position is written.
 * One reader reading in order: the value read is the current one (a rebuild lowers it). On timeout `waitFor`
 * rejects with IAM_ERR_UNAVAILABLE, as the PostgreSQL watermark does.
 */
export class MongoProjectionWatermark {
  private readonly watermark: CheckpointWatermark;

  constructor(readModels: MongoReadModels, options: MongoProjectionWatermarkOptions = {}) {
    const checkpoints = readModels.collections.checkpoints;
    this.watermark = new CheckpointWatermark({
      readCheckpoint: async () => (await checkpoints.findOne({ _id: PROJECTOR_CHECKPOINT }))?.position ?? 0,
      pollIntervalMs: options.pollIntervalMs ?? 25,
    });
  }

  /** Resolves once the checkpoint is at least `position`; rejects with IAM_ERR_UNAVAILABLE after `timeoutMs`. */
  waitFor(position: number, timeoutMs = 10_000): Promise<void> {
    return this.watermark.waitFor(position, timeoutMs);
  }

  /** Stops polling; pending waiters are rejected with IAM_ERR_UNAVAILABLE. The read models stay open. */
  async close(): Promise<void> {
    this.watermark.close();
  }
}
