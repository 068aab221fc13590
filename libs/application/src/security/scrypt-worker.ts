/**
 * The task module of the scrypt worker threads (run by piscina, see `ScryptWorkers`); nothing else imports
 * it. Loading it lowers the thread's CPU priority to `workerData.nice` (never raises it). On Linux the nice
 * value belongs to the thread (`setpriority` of "process" 0 is the calling thread), so only hashing yields;
 * elsewhere it would renice the whole process, so it is left alone there.
 */
import { scryptSync, type ScryptOptions } from 'node:crypto';
import { getPriority, setPriority } from 'node:os';
import { workerData } from 'node:worker_threads';

const nice = (workerData as { nice?: number } | null)?.nice ?? 0;
if (process.platform === 'linux' && nice > getPriority(0)) {
  try {
    setPriority(0, nice);
  } catch {
    // Not permitted: hash at the inherited priority.
  }
}

/** One key derivation: `keyLength` bytes of scrypt (RFC 7914) of `password` and `salt`. */
export interface DeriveTask {
  password: string;
  salt: Uint8Array;
  keyLength: number;
  options: ScryptOptions;
}

/** Derives the key; throws (the pool rejects the caller's promise) on parameters scrypt refuses. */
export function derive(task: DeriveTask): Uint8Array {
  return scryptSync(task.password, task.salt, task.keyLength, task.options);
}

/** This thread's nice value (for tests and diagnostics). */
export function priority(): number {
  return getPriority(0);
}
