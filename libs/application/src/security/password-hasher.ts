import { randomBytes, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { IamError } from '@arbor/domain';
import { ScryptWorkers } from './scrypt-workers';

/** scrypt with N = 2^15, r = 8: 32 MiB and tens of milliseconds per hash, on low-priority worker threads. */
const DEFAULT_COST = { ln: 15, r: 8, p: 1 };
const KEY_LENGTH = 32;
export const SATURATED = 'Too many password checks in flight; retry shortly.';

export interface PasswordHasherOptions {
  /** log2 of scrypt's N; tests may lower it, production keeps the default. */
  costLog2?: number;
  /** Hashes running at once; default: one less than the cores (at least one). */
  concurrency?: number;
  /** Hashes allowed to wait; past that a login flood is shed with 429 instead of stalling. */
  maxQueue?: number;
  /** Nice value of the hashing threads (Linux); 0 hashes at the server's own priority. Default 10. */
  nice?: number;
}

/**
 * Memory-hard password hashing off the event loop, behind a bounded queue: when the queue is full, callers
 * get IAM_ERR_RATE_LIMITED at once, so a flood of logins cannot starve every other endpoint. The hashes run
 * on worker threads of lower CPU priority (`ScryptWorkers`): when the cores are busy, requests go first.
 * Stored form: `$scrypt$ln=15,r=8,p=1$<salt>$<hash>` (base64url), self-describing so the cost can rise later.
 */
export class PasswordHasher {
  private readonly cost: typeof DEFAULT_COST;
  private readonly concurrency: number;
  private readonly maxQueue: number;
  private readonly workers: ScryptWorkers;
  /** Hashes admitted and not yet settled: at most `concurrency` run (piscina's threads), the rest wait. */
  private inFlight = 0;
  /** A real hash of nothing, verified against when the account is unknown, so timing does not tell. */
  private decoy: Promise<string> | undefined;

  constructor(options: PasswordHasherOptions = {}) {
    this.cost = { ...DEFAULT_COST, ln: options.costLog2 ?? DEFAULT_COST.ln };
    // Leave a core to everything else: hashing on every core starves other endpoints during a login flood.
    this.concurrency = options.concurrency ?? Math.max(1, availableParallelism() - 1);
    this.maxQueue = options.maxQueue ?? 64;
    // piscina's own queue bound sits above ours (it counts only tasks no thread has taken), so it never
    // refuses what `saturated` admitted; it is there so that the pool is bounded on its own too.
    this.workers = new ScryptWorkers(this.concurrency, options.nice ?? 10, this.maxQueue + this.concurrency);
  }

  /**
   * True while every hashing slot runs and the queue is full: the next hash would be refused. Callers check it
   * before any other work, so a login flood is shed for the price of a 429 alone.
   */
  get saturated(): boolean {
    return this.inFlight >= this.concurrency + this.maxQueue;
  }

  /** The nice value hashes run at (Linux; elsewhere the process's own). */
  hashingPriority(): Promise<number> {
    return this.workers.workerPriority();
  }

  async hash(password: string): Promise<string> {
    const salt = randomBytes(16);
    const derived = await this.derive(password, salt, this.cost);
    return `$scrypt$ln=${this.cost.ln},r=${this.cost.r},p=${this.cost.p}$${salt.toString('base64url')}$${derived.toString('base64url')}`;
  }

  /** Constant-time check; `stored` undefined means "no such account" and still costs one hash. */
  async verify(password: string, stored: string | undefined): Promise<boolean> {
    const target = stored ?? (await (this.decoy ??= this.hash(randomBytes(16).toString('hex'))));
    const match = /^\$scrypt\$ln=(\d+),r=(\d+),p=(\d+)\$([A-Za-z0-9_-]+)\$([A-Za-z0-9_-]+)$/.exec(target);
    if (!match) return false;
    const expected = Buffer.from(match[5], 'base64url');
    const derived = await this.derive(password, Buffer.from(match[4], 'base64url'), {
      ln: Number(match[1]),
      r: Number(match[2]),
      p: Number(match[3]),
    });
    return stored !== undefined && derived.length === expected.length && timingSafeEqual(derived, expected);
  }

  /** Ends the hashing threads: hashes still running are rejected, later ones too. Idempotent. */
  close(): Promise<void> {
    return this.workers.close();
  }

  /** Admits the hash (synchronously: IAM_ERR_RATE_LIMITED at once when saturated) and runs it in the pool. */
  private async derive(password: string, salt: Buffer, cost: typeof DEFAULT_COST): Promise<Buffer> {
    if (this.saturated) throw new IamError('IAM_ERR_RATE_LIMITED', SATURATED);
    this.inFlight++;
    try {
      const N = 2 ** cost.ln;
      const options: ScryptOptions = { N, r: cost.r, p: cost.p, maxmem: 256 * N * cost.r };
      return await this.workers.derive(password.normalize('NFKC'), salt, KEY_LENGTH, options);
    } finally {
      this.inFlight--;
    }
  }
}
