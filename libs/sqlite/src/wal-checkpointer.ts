import { Worker } from 'node:worker_threads';

/** What a connection's own automatic checkpoint waits for when a WalCheckpointer serves its file. */
export const BACKGROUND_AUTOCHECKPOINT_PAGES = 50_000;

/** How often the background checkpoint runs by default, in ms (see startWalCheckpointer). */
export const CHECKPOINT_INTERVAL_MS = 250;

export interface WalCheckpointer {
  stop(): Promise<void>;
}

// Plain JavaScript for the worker thread (eval: it needs no build step of its own).
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const dbs = workerData.files.map((file) => {
  const db = new Database(file, { timeout: workerData.busyTimeoutMs });
  db.pragma('synchronous = FULL');
  return { file, db };
});
const tick = () => {
  for (const { file, db } of dbs) {
    try {
      db.pragma('wal_checkpoint(PASSIVE)');
    } catch (e) {
      parentPort.postMessage({ file, error: String(e && e.message || e) });
    }
  }
};
const timer = setInterval(tick, workerData.intervalMs);
parentPort.on('message', () => {
  clearInterval(timer);
  tick();
  for (const { db } of dbs) db.close();
  parentPort.close();
});
`;

/**
 * Copies committed WAL frames into the database files from a worker thread (PRAGMA wal_checkpoint(PASSIVE)
 * every `intervalMs`, CHECKPOINT_INTERVAL_MS by default), so the event loop never runs a checkpoint's writes and
 * fsync itself: with SQLite's automatic checkpoints, the commit that crosses the threshold runs one inline, and
 * requests stalled for up to a second. Often, in small steps: a checkpoint's fsync of the database file still stalls
 * the event loop's own writes for a time that grows with what it copies (measured under 500 creations/s: the event
 * loop stalled ~30 ms once a second at 1 s, ~70 ms every 5 s at 5 s, ~10 ms at 250 ms, whose creation p99 went
 * from 22-30 ms to ~10 ms), as the file system's journal commits the copied pages before the next write goes on. PASSIVE never waits for readers or writers. The files' own connections keep a far
 * threshold (BACKGROUND_AUTOCHECKPOINT_PAGES) as a backstop, so the WAL stays bounded if this worker dies.
 */
export function startWalCheckpointer(
  files: readonly string[],
  options: { intervalMs?: number; onError?: (file: string, error: string) => void } = {},
): WalCheckpointer {
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    // It only runs a pragma a second: a small heap of its own (V8's defaults would size it like the main one).
    resourceLimits: { maxYoungGenerationSizeMb: 1, maxOldGenerationSizeMb: 32 },
    workerData: {
      files,
      driver: require.resolve('better-sqlite3'),
      intervalMs: options.intervalMs ?? CHECKPOINT_INTERVAL_MS,
      busyTimeoutMs: 5000,
    },
  });
  worker.on('message', (m: { file: string; error: string }) => options.onError?.(m.file, m.error));
  worker.on('error', (e) => options.onError?.('(worker)', e.message));
  // The worker must not keep a process alive that is otherwise done.
  worker.unref();
  let stopping: Promise<void> | undefined;
  return {
    stop: () =>
      (stopping ??= new Promise<void>((resolve) => {
        // Held now: unreferenced, the thread let a process whose other handles were closed end before its 'exit'
        // came, and everything a close awaited after this step (the stores' own closes) never ran.
        worker.ref();
        worker.once('exit', () => resolve());
        worker.postMessage('stop');
        setTimeout(() => void worker.terminate(), 5000).unref();
      })),
  };
}
