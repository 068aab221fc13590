import type { Worker } from 'node:cluster';

/** What node:cluster's primary and workers send each other (internal/cluster/utils.js `sendHelper`, Node 20). */
interface ClusterMessage {
  cmd?: unknown;
  act?: unknown;
  seq?: unknown;
  ack?: unknown;
  accepted?: unknown;
}

/** An accepted connection's libuv handle as the primary holds it (a raw `TCP` wrap, not a net.Socket). */
interface RawHandle {
  close(): void;
}

/** How long after a worker's exit a reply it sent before dying may still arrive. */
const REPLY_GRACE_MS = 1_000;

const isClusterMessage = (m: unknown): m is ClusterMessage =>
  typeof m === 'object' && m !== null && (m as ClusterMessage).cmd === 'NODE_CLUSTER';

/**
 * Connections cluster's primary accepted and handed to a worker, which no worker took: closed, so that their
 * clients see them end without an answer (and may retry; a write with its Idempotency-Key) instead of waiting
 * forever.
 *
 * Node's round-robin (internal/cluster/round_robin_handle.js, Node 20) sends each accepted connection to one worker
 * (`{cmd: 'NODE_CLUSTER', act: 'newconn', seq}` with the handle) and closes its own copy only when the worker's
 * reply (`{ack: seq, accepted}`) says it took it; "not accepted" (a worker that stopped listening) hands it on.
 * Two ways a connection is then kept open and unanswered for as long as this process lives (its descriptor in
 * CLOSE-WAIT), both known upstream (nodejs/node-v0.x-archive#7006, nodejs/node#21746; Bun's port tracks such
 * in-flight handles itself):
 * - the worker dies before replying (SIGKILL, a crash): the reply never comes. Closed REPLY_GRACE_MS after that
 *   worker's exit (not handed to another worker: the dead one may have read part of the request already);
 * - the last worker to stop listening replies "not accepted": nobody is left to hand it to, and cluster's
 *   round-robin has already let go of its queue. Closed by `closeAll`, once every worker has exited.
 *
 * Watches the workers' channels from outside (a wrapper of each worker process's `send`, and its
 * `internalMessage`s), so cluster itself is untouched; were the message shapes to change in a later Node, nothing
 * would be tracked and the behaviour would be Node's own again.
 */
export class UnansweredHandOvers {
  /** Handed to a worker that has not replied: to which, under which `seq`. */
  private readonly inFlight = new Map<RawHandle, { worker: Worker; seq: number }>();
  /** Replied "not accepted": cluster hands each on (then it is in flight again) or, with no worker left, keeps it. */
  private readonly returned = new Set<RawHandle>();

  /** Tracks the hand-overs to `worker`, a worker just forked. */
  watch(worker: Worker): void {
    const process = worker.process as typeof worker.process & {
      send: (message: unknown, handle?: unknown, ...rest: unknown[]) => boolean;
    };
    const bySeq = new Map<number, RawHandle>();
    const send = process.send.bind(process);
    process.send = (message: unknown, handle?: unknown, ...rest: unknown[]) => {
      if (
        isClusterMessage(message) &&
        message.act === 'newconn' &&
        typeof message.seq === 'number' &&
        isHandle(handle)
      ) {
        this.returned.delete(handle);
        this.inFlight.set(handle, { worker, seq: message.seq });
        bySeq.set(message.seq, handle);
      }
      return send(message, handle, ...rest);
    };
    // Heard after cluster's own listener, which may already have handed a returned connection on (a newer entry).
    process.on('internalMessage', (message: unknown) => {
      if (!isClusterMessage(message) || typeof message.ack !== 'number') return;
      const handle = bySeq.get(message.ack);
      if (handle === undefined) return;
      bySeq.delete(message.ack);
      const entry = this.inFlight.get(handle);
      if (entry?.worker !== worker || entry.seq !== message.ack) return;
      this.inFlight.delete(handle);
      if (message.accepted !== true) this.returned.add(handle);
    });
    // A reply sent just before the worker died may still be unread when its exit is reported: it is given a moment.
    // (The child's `disconnect` is no signal here: it was not emitted for a worker SIGKILLed with a hand-over
    // waiting for its acknowledgement.)
    worker.once('exit', () =>
      setTimeout(() => {
        for (const [handle, entry] of this.inFlight)
          if (entry.worker === worker) {
            this.inFlight.delete(handle);
            handle.close();
          }
      }, REPLY_GRACE_MS).unref(),
    );
  }

  /** Closes every connection no worker took; for when every worker has exited (a graceful stop's end). */
  closeAll(): void {
    // Closing a handle cluster closed already does nothing (libuv's handle is closed once).
    for (const handle of [...this.inFlight.keys(), ...this.returned]) handle.close();
    this.inFlight.clear();
    this.returned.clear();
  }
}

const isHandle = (handle: unknown): handle is RawHandle =>
  typeof handle === 'object' && handle !== null && typeof (handle as RawHandle).close === 'function';
