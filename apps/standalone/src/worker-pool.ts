import cluster, { type Worker } from 'node:cluster';
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import express from 'express';
import type { Logger, Projector } from '@arbor/application';
import { internalCommandRouter, type ApiContext } from '@arbor/api';
import type { StandaloneConfig } from './standalone-config';
import type { WriterLink } from './start-worker';
import { isArborMessage, type WorkerToWriter, type WriterToWorker } from './worker-messages';

/** The worker processes' entry: the built worker-main.js beside this file (dist/), also under Jest. */
export const WORKER_MAIN = resolve(__dirname, '../dist/worker-main.js');

/** A worker that exits within this long of its start counts as crash-looping: the next start waits longer. */
const QUICK_EXIT_MS = 5_000;
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
 * `release` is called once every worker is composed, right before they listen: the caller gives up the port it
 * held during start-up there (cluster binds it again for the workers within a few milliseconds).
 */
export async function startWorkerPool(options: {
  count: number;
  config: StandaloneConfig;
  port: number;
  ctx: ApiContext;
  projector: Projector;
  log: Logger;
  release: () => Promise<void>;
}): Promise<WorkerPool> {
  const { count, config, log } = options;
  const endpoint = await serveInternalApi(options.ctx, config.dataDir, log);
  // The worker needs no bootstrap secret: the writer created the admin already.
  const workerConfig: StandaloneConfig = { ...config, bootstrapAdminPassword: undefined, workers: 1 };
  const listen: WriterToWorker = { type: 'arbor:listen', port: options.port, host: config.host ?? '0.0.0.0' };
  const workers = new Set<Worker>();
  const listening = new Set<Worker>();
  const waiters = new Set<() => void>();
  let stopping = false;
  let restartDelayMs = 0;

  const fork = (listenAtOnce: boolean): Worker => {
    cluster.setupPrimary({ exec: WORKER_MAIN, args: [] });
    const worker = cluster.fork();
    const startedAt = Date.now();
    workers.add(worker);
    worker.on('message', (message: unknown) => {
      if (!isArborMessage(message)) return;
      const m = message as WorkerToWriter;
      if (m.type === 'arbor:composed' && listenAtOnce) worker.send(listen);
      if (m.type === 'arbor:listening') {
        listening.add(worker);
        for (const wake of waiters) wake();
      }
      if (m.type === 'arbor:failed') log.error('worker failed', { pid: worker.process.pid, error: m.error });
    });
    // A send to a worker that just died fails with EPIPE on this event, after isConnected() said yes: without a
    // listener that error would end the writer. The 'exit' below replaces the worker.
    worker.on('error', (error) => log.warn('worker channel error', { pid: worker.process.pid, error: String(error) }));
    worker.on('exit', (code, signal) => {
      workers.delete(worker);
      listening.delete(worker);
      if (stopping) return;
      const quick = Date.now() - startedAt < QUICK_EXIT_MS;
      restartDelayMs = quick ? Math.min(Math.max(restartDelayMs * 2, 100), RESTART_DELAY_MAX_MS) : 0;
      log.error('worker exited; starting another', { pid: worker.process.pid, code, signal, inMs: restartDelayMs });
      setTimeout(() => {
        if (!stopping) fork(true);
      }, restartDelayMs).unref();
    });
    worker.send({ type: 'arbor:configure', config: workerConfig, link: endpoint.link } satisfies WriterToWorker);
    return worker;
  };

  // Coalesced: one message per worker and tick carries the newest checkpoint.
  let pending: number | undefined;
  const unsubscribe = options.projector.onCheckpoint((position) => {
    if (pending === undefined)
      setImmediate(() => {
        const message: WriterToWorker = { type: 'arbor:checkpoint', position: pending! };
        pending = undefined;
        for (const worker of listening) if (worker.isConnected()) worker.send(message);
      });
    pending = position;
  });

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

  const stop = async (graceMs = 10_000) => {
    stopping = true;
    unsubscribe();
    await Promise.all(
      [...workers].map(
        (worker) =>
          new Promise<void>((done) => {
            if (worker.isDead()) return done();
            const kill = setTimeout(() => worker.process.kill('SIGKILL'), graceMs + 1000);
            worker.once('exit', () => {
              clearTimeout(kill);
              done();
            });
            if (worker.isConnected()) worker.send({ type: 'arbor:shutdown' } satisfies WriterToWorker);
            else worker.process.kill('SIGTERM');
          }),
      ),
    );
    await endpoint.close();
  };

  try {
    const started = Array.from({ length: count }, () => fork(false));
    await Promise.all(started.map((worker) => composed(worker)));
    await options.release();
    for (const worker of started) worker.send(listen);
    await whenListening(count);
  } catch (e) {
    await stop(0);
    throw e;
  }
  return { pids: () => [...listening].map((w) => w.process.pid!), whenListening, stop };
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
 * The writer's internal API for its workers: internalCommandRouter (the distributed command service's, which
 * authenticates each caller's token again) and the writer's readiness, on a Unix socket in the data directory
 * (mode 0700, so only its owner reaches it; a temporary 0700 directory when the path would be too long for a
 * socket), with a random token on top.
 */
async function serveInternalApi(
  ctx: ApiContext,
  dataDir: string,
  log: Logger,
): Promise<{ link: WriterLink; close(): Promise<void> }> {
  const inDataDir = join(resolve(dataDir), 'writer.sock');
  // Linux allows 107 bytes for a socket's path.
  const ownDir = inDataDir.length > 100 ? mkdtempSync(join(tmpdir(), 'arbor-writer-')) : undefined;
  const socketPath = ownDir ? join(ownDir, 'writer.sock') : inDataDir;
  // A socket file left by a writer that died: nobody listens there (the data directory's lock is ours now).
  rmSync(socketPath, { force: true });
  const link: WriterLink = { socketPath, internalToken: randomBytes(32).toString('base64url') };
  const expected = createHash('sha256').update(link.internalToken).digest();
  const sameToken = (presented: unknown) =>
    typeof presented === 'string' && timingSafeEqual(expected, createHash('sha256').update(presented).digest());
  const app = express();
  app.disable('x-powered-by');
  app.get('/internal/v1/readiness', (req, res) => {
    if (!sameToken(req.headers['x-arbor-internal-token'])) return void res.status(401).end();
    ctx.readiness().then(
      (readiness) => res.json(readiness),
      (e: unknown) => res.json({ ready: false, checks: { readiness: String(e) } }),
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
  return {
    link,
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
