import type { ScryptOptions } from 'node:crypto';
import { Worker } from 'node:worker_threads';

/**
 * Runs in each worker: derives keys with `scryptSync`, after lowering its own thread's CPU priority. On Linux
 * the nice value belongs to the thread (`setpriority` of "process" 0 is the calling thread), so only hashing
 * yields; elsewhere it would renice the whole process, so it is left alone there.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { scryptSync } = require('node:crypto');
const os = require('node:os');
if (workerData.nice > os.getPriority(0) && process.platform === 'linux') {
  try { os.setPriority(0, workerData.nice); } catch { /* not permitted: hash at the inherited priority */ }
}
parentPort.on('message', (m) => {
  if (m.priority) {
    parentPort.postMessage({ id: m.id, priority: os.getPriority(0) });
    return;
  }
  try {
    const key = scryptSync(m.password, m.salt, m.keyLength, m.options);
    parentPort.postMessage({ id: m.id, key });
  } catch (e) {
    parentPort.postMessage({ id: m.id, error: e instanceof Error ? e.message : String(e) });
  }
});
`;

interface Slot {
  worker: Worker;
  busy: number;
}

interface Job {
  slot: Slot;
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
}

interface Reply {
  id: number;
  key?: Uint8Array;
  priority?: number;
  error?: string;
}

/**
 * scrypt on dedicated worker threads whose CPU priority is lowered (to nice 10 by default, never raised): during a login
 * flood the hashes take what the event loop leaves, instead of competing with it for the cores as the libuv
 * thread pool does. The caller bounds how many hashes run at once (PasswordHasher's queue); each call goes to
 * the least busy worker. Workers start on first use and never keep the process alive.
 */
export class ScryptWorkers {
  private readonly workers: Slot[] = [];
  private readonly jobs = new Map<number, Job>();
  private nextId = 0;

  constructor(
    private readonly size: number,
    private readonly nice = 10,
  ) {}

  derive(password: string, salt: Buffer, keyLength: number, options: ScryptOptions): Promise<Buffer> {
    return this.send({ password, salt, keyLength, options }).then((reply) => {
      const key = reply.key as Uint8Array;
      return Buffer.from(key.buffer, key.byteOffset, key.byteLength);
    });
  }

  /** The nice value a worker runs at (for tests and diagnostics). */
  async workerPriority(): Promise<number> {
    return (await this.send({ priority: true })).priority as number;
  }

  private send(message: Record<string, unknown>): Promise<Reply> {
    const slot = this.leastBusy();
    const id = this.nextId++;
    return new Promise<Reply>((resolve, reject) => {
      this.jobs.set(id, { slot, resolve: resolve as (value: unknown) => void, reject });
      slot.busy++;
      slot.worker.ref();
      slot.worker.postMessage({ id, ...message });
    }).finally(() => {
      slot.busy--;
      if (slot.busy === 0) slot.worker.unref();
    });
  }

  private leastBusy(): Slot {
    if (this.workers.length < this.size) {
      const idle = this.workers.find((w) => w.busy === 0);
      if (idle) return idle;
      return this.spawn();
    }
    return this.workers.reduce((a, b) => (b.busy < a.busy ? b : a));
  }

  private spawn(): Slot {
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { nice: this.nice } });
    const slot: Slot = { worker, busy: 0 };
    worker.unref();
    worker.on('message', (reply: Reply) => {
      const job = this.jobs.get(reply.id);
      if (!job) return;
      this.jobs.delete(reply.id);
      if (reply.error !== undefined) job.reject(new Error(reply.error));
      else job.resolve(reply);
    });
    // A worker that dies fails what it was given (the caller sees an error, not a hang) and is replaced on
    // the next call.
    const fail = (error: Error) => {
      const index = this.workers.indexOf(slot);
      if (index !== -1) this.workers.splice(index, 1);
      for (const [id, job] of this.jobs) {
        if (job.slot !== slot) continue;
        this.jobs.delete(id);
        job.reject(error);
      }
    };
    worker.once('error', fail);
    worker.once('exit', (code) => {
      if (this.workers.includes(slot)) fail(new Error(`scrypt worker exited with code ${code}`));
    });
    this.workers.push(slot);
    return slot;
  }
}
