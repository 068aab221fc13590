import type { ScryptOptions } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Piscina } from 'piscina';
import type { DeriveTask } from './scrypt-worker';

/**
 * The worker's task module beside this file: `scrypt-worker.js` in a build (the apps run from dist), or
 * `scrypt-worker.ts` when this file runs from source (jest's swc transform, `node -r @swc-node/register`).
 * A worker thread gets no transform of its own, so from source it preloads @swc-node/register (a
 * devDependency, present wherever sources run).
 */
const FROM_SOURCE = __filename.endsWith('.ts');
const WORKER_FILE = join(__dirname, FROM_SOURCE ? 'scrypt-worker.ts' : 'scrypt-worker.js');
const WORKER_EXEC_ARGV = FROM_SOURCE ? ['--require', '@swc-node/register'] : [];

/**
 * scrypt on a piscina pool of dedicated worker threads whose CPU priority is lowered (to nice 10 by default,
 * never raised): during a login flood the hashes take what the event loop leaves, instead of competing with
 * it for the cores as the libuv thread pool does. At most `size` threads, started on first use, kept until
 * close() and never keeping the process alive (a process that starts and closes servers, as the tests do, must
 * close them: a thread run from source holds a Node environment and a TypeScript transform, tens of MB); each
 * task goes to the least busy thread, and a thread that dies fails the task it ran (the caller sees an error,
 * not a hang) and is replaced on the next call. How many hashes may wait is the caller's to bound
 * (PasswordHasher's queue: it must answer "saturated?" before it submits); `maxQueue` is only a backstop above
 * that bound.
 */
export class ScryptWorkers {
  private readonly pool: Piscina<DeriveTask | undefined, Uint8Array | number>;
  private closing: Promise<void> | undefined;

  constructor(size: number, nice = 10, maxQueue = Infinity) {
    // A worker that cannot load its module never answers (piscina's tasks would hang): fail at start instead.
    if (!existsSync(WORKER_FILE))
      throw new Error(`ScryptWorkers: the worker module ${WORKER_FILE} is missing (build libs/application)`);
    this.pool = new Piscina({
      filename: WORKER_FILE,
      // The export a worker loads when it starts (piscina's default, `default`, does not exist here).
      name: 'derive',
      execArgv: WORKER_EXEC_ARGV,
      workerData: { nice },
      minThreads: 0,
      maxThreads: size,
      idleTimeout: Infinity,
      maxQueue,
    });
  }

  /** scrypt (RFC 7914) of `password` and `salt`: `keyLength` bytes; rejects on parameters scrypt refuses. */
  async derive(password: string, salt: Buffer, keyLength: number, options: ScryptOptions): Promise<Buffer> {
    this.refuseWhenClosed();
    const key = (await this.pool.run({ password, salt, keyLength, options }, { name: 'derive' })) as Uint8Array;
    return Buffer.from(key.buffer, key.byteOffset, key.byteLength);
  }

  /** Ends the threads (a hash still running is rejected, and every later one: piscina would start new threads). */
  close(): Promise<void> {
    return (this.closing ??= this.pool.destroy());
  }

  /** The nice value a worker runs at (for tests and diagnostics). */
  async workerPriority(): Promise<number> {
    this.refuseWhenClosed();
    return (await this.pool.run(undefined, { name: 'priority' })) as number;
  }

  private refuseWhenClosed(): void {
    if (this.closing !== undefined) throw new Error('ScryptWorkers: closed');
  }
}
