import { collectStartupGarbage, jsonLogger, limitHeapGrowth, type Logger } from '@arbor/application';
import { startEmbeddedWorker, type EmbeddedWorker } from './start-worker';
import { isArborMessage, type WorkerToWriter, type WriterToWorker } from './worker-messages';

/** How long a stopping worker waits for the writer to confirm `arbor:unlistened` before exiting anyway. */
const UNLISTEN_CONFIRM_MS = 5_000;

/**
 * An HTTP worker process of the embedded profile (IAM_WORKERS above 1), forked by the writer (worker-pool.ts).
 * It does nothing until the writer sends its configuration, and ends when the writer says so or goes away: a
 * worker never outlives its writer (the IPC channel closes when the writer dies, however it dies).
 */

function main(): void {
  limitHeapGrowth();
  let worker: EmbeddedWorker | undefined;
  let log: Logger = jsonLogger({ app: 'standalone-worker', pid: process.pid }, 'info');
  let ending = false;
  const send = (message: WorkerToWriter) => process.send?.(message);
  let unlistenConfirmed: () => void = () => undefined;
  const end = (code: number) => {
    if (ending) return;
    ending = true;
    // close() stops listening before it returns: cluster's `close` to the primary is on the channel already, so
    // `arbor:unlistened` follows it; the writer's confirmation follows every connection handed over before that,
    // each answered "not accepted" by cluster as it arrives, and `arbor:handed-back` follows those answers.
    const closing = worker ? worker.close() : Promise.resolve();
    const confirmed = new Promise<void>((done) => {
      if (!process.connected) return done();
      unlistenConfirmed = () => {
        if (!process.connected) return done();
        process.send!({ type: 'arbor:handed-back' } satisfies WorkerToWriter, undefined, {}, () => done());
      };
      process.once('disconnect', done);
      // The writer answers at once; one that is stuck must not keep this worker up.
      setTimeout(done, UNLISTEN_CONFIRM_MS);
      send({ type: 'arbor:unlistened' });
    });
    Promise.all([
      closing.catch((e: unknown) => log.error('worker close failed', { error: String(e) })),
      confirmed,
    ]).finally(() => process.exit(code));
  };

  process.on('message', (message: unknown) => {
    if (!isArborMessage(message)) return;
    const m = message as WriterToWorker;
    switch (m.type) {
      case 'arbor:configure':
        log = jsonLogger({ app: 'standalone-worker', pid: process.pid }, m.config.logLevel);
        startEmbeddedWorker(m.config, m.link, log, () => send({ type: 'arbor:catch-up' })).then(
          (w) => {
            worker = w;
            send({ type: 'arbor:composed' });
          },
          (e: unknown) => {
            log.error('worker failed to start', { error: String(e) });
            send({ type: 'arbor:failed', error: e instanceof Error ? e.message : String(e) });
            end(1);
          },
        );
        return;
      case 'arbor:listen':
        // Composing leaves garbage V8 would keep until idle for ~30 s: collected before this worker serves.
        if (worker) collectStartupGarbage();
        worker?.listen(m.port, m.host, m.durable, m.checkpoint).then(
          () => send({ type: 'arbor:listening' }),
          (e: unknown) => {
            send({ type: 'arbor:failed', error: e instanceof Error ? e.message : String(e) });
            end(1);
          },
        );
        return;
      case 'arbor:checkpoint':
        worker?.observeCheckpoint(m.position);
        return;
      case 'arbor:durable':
        worker?.observeDurable(m.position);
        return;
      case 'arbor:shutdown':
        end(0);
        return;
      case 'arbor:unlisten-confirmed':
        unlistenConfirmed();
        return;
    }
  });
  process.on('disconnect', () => end(1));
  // The writer decides when workers stop: a Ctrl-C reaches the whole process group, and the writer then asks.
  process.on('SIGINT', () => undefined);
  process.on('SIGTERM', () => end(0));
}

main();
