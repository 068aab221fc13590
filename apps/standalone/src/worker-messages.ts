import type { StandaloneConfig } from './standalone-config';
import type { WriterLink } from './start-worker';

/**
 * The messages between the embedded writer (the cluster primary) and its HTTP workers, over the IPC channel
 * cluster.fork opens. Every message is a plain JSON object with a `type` starting `arbor:`.
 */
export type WriterToWorker =
  /** First message: how to compose (the writer's configuration, without the bootstrap admin's password). */
  | { type: 'arbor:configure'; config: StandaloneConfig; link: WriterLink }
  /**
   * Start accepting connections on the shared port (sent once every worker is composed, at start-up; to a
   * replacement once it is); `durable`: the event log's durable position then (SqliteEventStore.durablePosition);
   * `checkpoint`: the read models' checkpoint then (Projector.position).
   */
  | { type: 'arbor:listen'; port: number; host?: string; durable: number; checkpoint: number }
  /**
   * The read models' checkpoint after a committed batch (Projector.onCheckpoint), coalesced per tick; to every
   * worker, listening or not (its answers claim the last one heard as their position: ProjectionWatermark.atLeast).
   */
  | { type: 'arbor:checkpoint'; position: number }
  /** The event log's durable position after an fdatasync (SqliteEventStore.onDurable), coalesced per tick. */
  | { type: 'arbor:durable'; position: number }
  /** Stop listening, finish what is in flight, close, exit 0 (after `arbor:unlistened` is confirmed). */
  | { type: 'arbor:shutdown' }
  /**
   * The answer to `arbor:unlistened`: cluster's primary has taken this worker out of its round-robin, and every
   * connection it handed over before that is ahead of this message on the channel. The worker answers
   * `arbor:handed-back` (behind its replies to those hand-overs) and may then exit.
   */
  | { type: 'arbor:unlisten-confirmed' };

export type WorkerToWriter =
  | { type: 'arbor:composed' }
  | { type: 'arbor:listening' }
  /** A request has waited a while for a checkpoint: the writer's projector should catch up now (see onBehind). */
  | { type: 'arbor:catch-up' }
  /**
   * Sent right after the worker's server stopped listening at a shutdown (behind cluster's own `close`, on the same
   * ordered channel); the writer confirms it (see worker-pool.ts `stop`).
   */
  | { type: 'arbor:unlistened' }
  /** The answer to `arbor:unlisten-confirmed`: every connection handed to this worker is handed back by now. */
  | { type: 'arbor:handed-back' }
  /** Composition failed: the worker exits 1 after sending this. */
  | { type: 'arbor:failed'; error: string };

/** Whether `value` is a message of this protocol (cluster also carries its own `NODE_` messages). */
export function isArborMessage(value: unknown): value is { type: string } {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { type?: unknown }).type === 'string' &&
    (value as { type: string }).type.startsWith('arbor:')
  );
}
