import cluster, { type Worker } from 'node:cluster';
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import express from 'express';
import type { Logger, Projector, StoredResponse } from '@arbor/application';
import { IDLE_CONNECTION_MS, internalCommandRouter, type ApiContext } from '@arbor/api';
import type { SqliteEventStore } from '@arbor/sqlite';
import type { StandaloneConfig } from './standalone-config';
import type { WriterLink } from './start-worker';
import { UnansweredHandOvers } from './handed-connections';
import { isArborMessage, type WorkerToWriter, type WriterToWorker } from './worker-messages';

/** The worker processes' entry: the built worker-main.js beside this file (dist/), also under Jest. */
export const WORKER_MAIN = resolve(__dirname, '../dist/worker-main.js');

/** A worker that exits within this long of its start counts as crash-looping: the next start waits longer. */
const QUICK_EXIT_MS = 5_000;
/**
 * Quick exits in a row, with no worker serving meanwhile, after which the pool stops replacing them and tells the
 * writer (`onGiveUp`): the port serves nobody, and a supervisor restarting the whole process (or a person reading
 * why) does better than a loop that never ends.
 */
const MAX_QUICK_EXITS = 5;
const RESTART_DELAY_MAX_MS = 5_000;
/** How long start-up waits for a worker to compose and listen. */
const START_TIMEOUT_MS = 60_000;

/** The HTTP workers of a running embedded writer. */
export interface WorkerPool {
  /** The live workers' process ids (a replaced worker has a new one). */
  pids(): number[];
  /** Resolves when `count` workers listen (after a replacement, say). */
  whenListening(count: number, timeoutMs?: number): Promise<void>;
  /** Asks every worker to finish what is in flight and exit; kills those still up after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

/** What the writer hands its workers once it has caught up with the log: `open` lets them serve. */
export interface WorkerGate {
  /** The writer's API context (its commands and authenticator serve the workers' internal API). */
  ctx: ApiContext;
  /** Tells the workers of every checkpoint it commits. */
  projector: Projector;
  /** The event log's durable position (SqliteEventStore): the workers' reads of the log wait for it. */
  eventLog: Pick<SqliteEventStore, 'durablePosition' | 'onDurable'>;
  /** The public port the workers share (the one bound during start-up). */
  port: number;
  /** Gives up the port held during start-up; called right before the workers listen on it. */
  release: () => Promise<void>;
}

/**
 * IAM_WORKERS above 1: the embedded writer (this process: command service, event log appends, projector,
 * webhooks, housekeeping) serves its internal command API on a Unix socket of its own and forks `count` HTTP
 * workers (start-worker.ts) with node:cluster, which share the public port: the primary accepts connections and
 * hands them to the workers in turn (cluster's round-robin, the default on Linux; accepting in every worker
 * spreads connections unevenly). Node 20's worker threads cannot share a listening socket, so workers are
 * processes. After every committed projection batch the workers hear the new checkpoint, so a write is answered
 * once the read models hold it, whichever worker sent it. A worker that dies is replaced (after a backoff when it
 * keeps dying quickly); no acknowledged write is lost with it, as only the writer commits.
 *
 * Two steps, so that the workers start while the writer catches up with the log (start-up takes the longer of
 * the two, not their sum): `forkWorkerPool` forks and composes them, once the writer's files exist (opened and
 * migrated) and its signing key is there; `open` serves the internal API and lets them listen, once the writer is
 * ready. A worker that dies before `open` fails the start.
 */
export function forkWorkerPool(options: {
  count: number;
  config: StandaloneConfig;
  log: Logger;
  /** Told once when the pool stops replacing workers that keep dying (MAX_QUICK_EXITS); the writer then stops. */
  onGiveUp?: (reason: Error) => void;
}): WorkerPool & { open(gate: WorkerGate): Promise<void> } {
  const { count, config, log } = options;
  const link = writerLink(config.dataDir);
  // The worker needs no bootstrap secret: the writer created the admin already.
  const workerConfig: StandaloneConfig = { ...config, bootstrapAdminPassword: undefined, workers: 1 };
  const workers = new Set<Worker>();
  const listening = new Set<Worker>();
  const waiters = new Set<() => void>();
  /** Workers asked to stop, with the callback their `arbor:unlistened` calls. */
  const unlistenWaiters = new Map<Worker, () => void>();
  let listen: (() => WriterToWorker) | undefined;
  let endpoint: { close(): Promise<void> } | undefined;
  let unsubscribe = (): void => undefined;
  let opened = false;
  /** The writer's projector, from `open` on. */
  let projector: Projector | undefined;
  let stopping = false;
  let restartDelayMs = 0;
  /** Workers in a row that exited within QUICK_EXIT_MS of their start (a later exit or a listening worker resets it). */
  let quickExits = 0;
  let gaveUp = false;
  const handOvers = new UnansweredHandOvers();

  const fork = (): Worker => {
    cluster.setupPrimary({ exec: WORKER_MAIN, args: [] });
    // The configuration comes by IPC; the bootstrap password the writer's environment may hold is not passed on.
    const worker = cluster.fork({ IAM_BOOTSTRAP_ADMIN_PASSWORD: '' });
    handOvers.watch(worker);
    const startedAt = Date.now();
    workers.add(worker);
    worker.on('message', (message: unknown) => {
      if (!isArborMessage(message)) return;
      const m = message as WorkerToWriter;
      // A replacement listens as soon as it is composed; the first ones wait for `open`.
      if (m.type === 'arbor:composed' && opened && listen) worker.send(listen());
      if (m.type === 'arbor:listening') {
        // A replacement's start, so that the log tells an operator the port is served again after a death.
        if (!first.includes(worker)) log.info('HTTP worker listening', { pid: worker.process.pid, replacement: true });
        quickExits = 0;
        listening.add(worker);
        for (const wake of waiters) wake();
      }
      if (m.type === 'arbor:unlistened' && worker.isConnected())
        worker.send({ type: 'arbor:unlisten-confirmed' } satisfies WriterToWorker);
      if (m.type === 'arbor:handed-back') {
        unlistenWaiters.get(worker)?.();
        unlistenWaiters.delete(worker);
      }
      if (m.type === 'arbor:failed') log.error('worker failed', { pid: worker.process.pid, error: m.error });
      // As Projector.waitFor does for a request in this process: a projector backing off after a failure tries
      // again now (a catch-up already running only takes one more look at the log).
      if (m.type === 'arbor:catch-up') void projector?.catchUp();
    });
    // A send to a worker that just died fails with EPIPE on this event, after isConnected() said yes: without a
    // listener that error would end the writer. The 'exit' below replaces the worker.
    worker.on('error', (error) => log.warn('worker channel error', { pid: worker.process.pid, error: String(error) }));
    worker.on('exit', (code, signal) => {
      workers.delete(worker);
      listening.delete(worker);
      unlistenWaiters.delete(worker);
      if (stopping || !opened || gaveUp) return;
      const quick = Date.now() - startedAt < QUICK_EXIT_MS;
      quickExits = quick ? quickExits + 1 : 0;
      if (quickExits >= MAX_QUICK_EXITS && listening.size === 0) {
        gaveUp = true;
        const reason = `${quickExits} HTTP workers in a row exited within ${QUICK_EXIT_MS} ms of their start, and none serves`;
        log.error('HTTP workers keep dying: not starting more', { pid: worker.process.pid, code, signal, reason });
        options.onGiveUp?.(new Error(reason));
        return;
      }
      restartDelayMs = quick ? Math.min(Math.max(restartDelayMs * 2, 100), RESTART_DELAY_MAX_MS) : 0;
      log.error('worker exited; starting another', { pid: worker.process.pid, code, signal, inMs: restartDelayMs });
      setTimeout(() => {
        if (!stopping) fork();
      }, restartDelayMs).unref();
    });
    const { socketPath, internalToken } = link;
    worker.send({
      type: 'arbor:configure',
      config: workerConfig,
      link: { socketPath, internalToken },
    } satisfies WriterToWorker);
    return worker;
  };

  const whenListening = (n: number, timeoutMs = START_TIMEOUT_MS) =>
    new Promise<void>((done, fail) => {
      const check = () => {
        if (listening.size < n) return;
        waiters.delete(check);
        clearTimeout(timer);
        done();
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        fail(new Error(`${n} HTTP workers did not start within ${timeoutMs} ms (${listening.size} did).`));
      }, timeoutMs);
      waiters.add(check);
      check();
    });

  /**
   * Asks `worker` to stop (SIGKILL after `graceMs` + 1 s): `unlistened` resolves once cluster's primary took it
   * out of the round-robin and has every connection it handed it back (`arbor:handed-back`), or it exited;
   * `exited` once it is gone.
   */
  const shutDown = (worker: Worker, graceMs: number) => {
    const exited = new Promise<void>((done) => {
      if (worker.isDead()) return done();
      const kill = setTimeout(() => worker.process.kill('SIGKILL'), graceMs + 1000);
      worker.once('exit', () => {
        clearTimeout(kill);
        done();
      });
    });
    const unlistened = new Promise<void>((done) => {
      unlistenWaiters.set(worker, done);
      void exited.then(done);
    });
    if (worker.isConnected()) worker.send({ type: 'arbor:shutdown' } satisfies WriterToWorker);
    else worker.process.kill('SIGTERM');
    return { exited, unlistened };
  };

  /**
   * Node's cluster round-robin (internal/cluster/round_robin_handle.js) hands each accepted connection to one worker
   * at a time and keeps it until that worker replies: a worker that stopped listening replies "not accepted" and the
   * connection goes to another worker still listening; but a worker that exits before replying, or the last one to
   * stop listening (nobody to hand it back to), leaves that connection open and unanswered while this process
   * lives. So every worker but one stops listening first, and the last one only once each of those has every
   * hand-over back: the worker says `arbor:unlistened` behind cluster's `close`, the writer confirms behind any
   * hand-over still on its way, the worker answers `arbor:handed-back` behind its "not accepted" replies. At most
   * the one connection being handed to the last worker as it stops is left unanswered; it is closed once every
   * worker has exited (UnansweredHandOvers), as one handed to a worker that dies is after its death.
   */
  const stop = async (graceMs = 10_000) => {
    stopping = true;
    const last = [...listening].at(-1);
    // Checkpoints still go out while the workers drain: their writes in flight wait for them.
    const firstWave = [...workers].filter((w) => w !== last).map((w) => shutDown(w, graceMs));
    await Promise.all(firstWave.map((s) => s.unlistened));
    const lastWave = last ? [shutDown(last, graceMs)] : [];
    await Promise.all([...firstWave, ...lastWave].map((s) => s.exited));
    handOvers.closeAll();
    unsubscribe();
    if (endpoint) await endpoint.close();
    else if (link.ownDir) rmSync(link.ownDir, { recursive: true, force: true });
  };

  const first = Array.from({ length: count }, fork);
  // Attached now: a worker may be composed long before the writer is ready.
  const allComposed = Promise.all(first.map(composed));
  allComposed.catch(() => undefined);

  const open = async (gate: WorkerGate) => {
    try {
      projector = gate.projector;
      endpoint = await serveInternalApi(gate.ctx, link, log);
      // Both to every worker, listening or not: one composed meanwhile has the positions its `listen` carried, and
      // must hear every later one (it has no file to poll for the durable one, and answers claim the checkpoint).
      const stopCheckpoints = gate.projector.onCheckpoint(
        coalesced((position) => ({ type: 'arbor:checkpoint', position }), workers),
      );
      const stopDurable = gate.eventLog.onDurable(
        coalesced((position) => ({ type: 'arbor:durable', position }), workers),
      );
      unsubscribe = () => {
        stopCheckpoints();
        stopDurable();
      };
      await allComposed;
      listen = () => ({
        type: 'arbor:listen',
        port: gate.port,
        host: config.host ?? '0.0.0.0',
        durable: gate.eventLog.durablePosition,
        checkpoint: gate.projector.position,
      });
      await gate.release();
      opened = true;
      for (const worker of first) worker.send(listen());
      await whenListening(count);
    } catch (e) {
      await stop(0);
      throw e;
    }
  };
  return { pids: () => [...listening].map((w) => w.process.pid!), whenListening, stop, open };
}

/**
 * A listener that sends `message(position)` to each connected worker of `to`, coalesced: one message per tick carries
 * the newest position (announcements come per commit or batch, hundreds a second under load).
 */
function coalesced(message: (position: number) => WriterToWorker, to: Set<Worker>): (position: number) => void {
  let pending: number | undefined;
  return (position) => {
    if (pending === undefined)
      setImmediate(() => {
        const m = message(pending!);
        pending = undefined;
        for (const worker of to) if (worker.isConnected()) worker.send(m);
      });
    pending = position;
  };
}

/** Resolves when `worker` says it is composed; rejects when it fails or exits first. */
function composed(worker: Worker): Promise<void> {
  return new Promise((done, fail) => {
    const timer = setTimeout(() => fail(new Error('An HTTP worker did not start in time.')), START_TIMEOUT_MS);
    worker.on('message', (m: unknown) => {
      if (!isArborMessage(m)) return;
      if (m.type === 'arbor:composed') {
        clearTimeout(timer);
        done();
      }
      const message = m as WorkerToWriter;
      if (message.type === 'arbor:failed') fail(new Error(`An HTTP worker failed to start: ${message.error}`));
    });
    worker.once('exit', (code) => fail(new Error(`An HTTP worker exited during start-up (code ${code}).`)));
    worker.once('exit', () => clearTimeout(timer));
  });
}

/**
 * Where the writer's internal API listens: a Unix socket in the data directory (mode 0700, so only its owner reaches
 * it), or in a temporary 0700 directory when that path would be too long for a socket; and a random token on top.
 */
function writerLink(dataDir: string): WriterLink & { ownDir?: string } {
  const inDataDir = join(resolve(dataDir), 'writer.sock');
  // Linux allows 107 bytes for a socket's path.
  const ownDir = inDataDir.length > 100 ? mkdtempSync(join(tmpdir(), 'arbor-writer-')) : undefined;
  const socketPath = ownDir ? join(ownDir, 'writer.sock') : inDataDir;
  // A socket file left by a writer that died: nobody listens there (the data directory's lock is ours now).
  rmSync(socketPath, { force: true });
  return { socketPath, internalToken: randomBytes(32).toString('base64url'), ownDir };
}

/**
 * The writer's internal API for its workers: internalCommandRouter (the distributed command service's, which
 * authenticates each caller's token again) and the writer's readiness, on the socket of `link`.
 */
async function serveInternalApi(
  ctx: ApiContext,
  link: WriterLink & { ownDir?: string },
  log: Logger,
): Promise<{ close(): Promise<void> }> {
  const { socketPath, ownDir } = link;
  const expected = createHash('sha256').update(link.internalToken).digest();
  const sameToken = (presented: unknown) =>
    typeof presented === 'string' && timingSafeEqual(expected, createHash('sha256').update(presented).digest());
  const app = express();
  app.disable('x-powered-by');
  // No ETag on command outcomes: nobody revalidates them, and express would hash every body (SHA-1) to make one.
  app.set('etag', false);
  app.get('/internal/v1/readiness', (req, res) => {
    if (!sameToken(req.headers['x-arbor-internal-token'])) return void res.status(401).end();
    ctx.readiness().then(
      (readiness) => res.json(readiness),
      (e: unknown) => res.json({ ready: false, checks: { readiness: String(e) } }),
    );
  });
  // A worker's idempotency completion (write-flow): the writer appends to the log, so it writes this too; a worker
  // writing events.sqlite itself would wait on the writer's lock in SQLite's busy handler, on its event loop.
  app.post('/internal/v1/idempotency', express.json({ limit: '1mb' }), (req, res) => {
    if (!sameToken(req.headers['x-arbor-internal-token'])) return void res.status(401).end();
    const { scope, key, response } = (req.body ?? {}) as Record<string, unknown>;
    if (typeof scope !== 'string' || typeof key !== 'string' || typeof response !== 'object' || response === null)
      return void res.status(422).json({ code: 'IAM_ERR_VALIDATION', message: 'Expected {scope, key, response}.' });
    ctx.eventStore.completeIdempotency(scope, key, response as StoredResponse).then(
      () => res.status(204).end(),
      (e: unknown) => {
        log.error('idempotency completion failed', { error: e instanceof Error ? e.message : String(e) });
        res.status(503).end();
      },
    );
  });
  app.use(
    internalCommandRouter(ctx.commands, {
      token: link.internalToken,
      log,
      authenticate: (authorization) => ctx.authenticator.authenticate(authorization),
    }),
  );
  const server: Server = await new Promise((done, fail) => {
    const s = app.listen(socketPath, () => done(s)).once('error', fail);
  });
  // Longer than the workers' idle timeout (IDLE_CONNECTION_MS, HttpCommandPort's agent): they close idle
  // connections first, so a command is never sent on one this side is closing (as the command service does).
  server.keepAliveTimeout = IDLE_CONNECTION_MS * 2;
  server.headersTimeout = IDLE_CONNECTION_MS * 2 + 1000;
  // The socket is created with the umask's mode (often 0755); like every file of the data directory it is the
  // owner's alone (0600; connecting needs write permission, which nobody else then has).
  chmodSync(socketPath, 0o600);
  return {
    close: () =>
      new Promise<void>((done) => {
        server.close(() => {
          if (ownDir) rmSync(ownDir, { recursive: true, force: true });
          else rmSync(socketPath, { force: true });
          done();
        });
        server.closeAllConnections();
      }),
  };
}
