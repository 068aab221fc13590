import { randomUUID } from 'node:crypto';
import { MongoServerError, type Collection, type Db } from 'mongodb';

/** The lease document: who may write the read models of this database, until when (ms since the epoch). */
export interface LeaseDoc {
  _id: string;
  owner: string;
  /** A value of its own for each taking of the lease: a renewal only extends the taking it belongs to. */
  token: string;
  expiresAt: number;
}

export interface MongoProjectorLeaseOptions {
  /** How long a taking lasts without renewal, in ms. Default 5000. */
  ttlMs?: number;
  /** How often the holder renews it, in ms. Default 1000. */
  renewEveryMs?: number;
  /** Called once when the lease was lost (taken by another after it expired, or not renewed in time). */
  onLost?: (reason: string) => void;
}

/** Who holds the lease, as `tryAcquire` found it when it could not take it. */
export interface LeaseHolder {
  owner: string;
  expiresAt: number;
}

const LEASE_ID = 'projector';
/** Below this much time left, `assertHeld` refuses: a batch started now could outlive the taking. */
const SAFETY_MARGIN_MS = 1000;

/**
 * One projector per database: the MongoDB read models apply a batch without a transaction (FerretDB has none),
 * so two projectors writing at once could interleave the writes of one event. The projector that writes holds
 * this lease, a document in the `leases` collection (outside the read models: `reset` leaves it alone), taken
 * with one conditional update: it matches when the lease is free, expired, or already this owner's; otherwise
 * the upsert collides with the existing `_id` (duplicate key) and the taker is told who holds it. A second
 * projector waits (`acquire`) and takes over within `ttlMs` of the holder stopping; a holder that stops cleanly
 * releases it at once.
 *
 * The holder renews every `renewEveryMs`; a renewal is conditional on the holder's own taking (`token`), so a
 * holder that was paused past its expiry and overtaken finds out at its next renewal and is told (`onLost`).
 * `assertHeld` (called before every batch) refuses once the lease has less than a second left by the holder's
 * own clock or was lost. Not a fencing token: a process that stalls after `assertHeld` for longer than the lease
 * lasts (seconds) could still write beside its successor; expiry is read from each process's clock, so the
 * clocks of the projectors' machines must agree to well within `ttlMs`.
 */
export class MongoProjectorLease {
  readonly owner: string;
  private readonly leases: Collection<LeaseDoc>;
  private readonly ttlMs: number;
  private readonly renewEveryMs: number;
  private readonly onLost: (reason: string) => void;
  private token = '';
  /** When the current taking expires by this process's clock (0: not held). */
  private heldUntil = 0;
  private lost: string | undefined;
  private renewTimer: NodeJS.Timeout | undefined;
  private renewing: Promise<void> | undefined;

  constructor(db: Db, owner: string, options: MongoProjectorLeaseOptions = {}) {
    this.leases = db.collection<LeaseDoc>('leases');
    this.owner = owner;
    this.ttlMs = options.ttlMs ?? 5000;
    this.renewEveryMs = options.renewEveryMs ?? 1000;
    this.onLost = options.onLost ?? (() => undefined);
  }

  /** Whether this process holds the lease (taken, not lost, not expired by its clock). */
  get held(): boolean {
    return this.lost === undefined && this.heldUntil > Date.now();
  }

  /** Takes the lease if it is free, expired or this owner's; otherwise returns its holder. Renews once taken. */
  async tryAcquire(): Promise<LeaseHolder | undefined> {
    const now = Date.now();
    const token = randomUUID();
    try {
      await this.leases.updateOne(
        { _id: LEASE_ID, $or: [{ owner: this.owner }, { expiresAt: { $lte: now } }] },
        { $set: { owner: this.owner, token, expiresAt: now + this.ttlMs } },
        { upsert: true },
      );
    } catch (e) {
      if (!(e instanceof MongoServerError && e.code === 11000)) throw e;
      const doc = await this.leases.findOne({ _id: LEASE_ID });
      if (doc && doc.owner !== this.owner && doc.expiresAt > Date.now())
        return { owner: doc.owner, expiresAt: doc.expiresAt };
      return this.tryAcquire();
    }
    // Read back: of two takers racing on an expired lease, the one whose write landed last holds it.
    const doc = await this.leases.findOne({ _id: LEASE_ID });
    if (!doc || doc.token !== token) return doc ? { owner: doc.owner, expiresAt: doc.expiresAt } : this.tryAcquire();
    this.token = token;
    this.heldUntil = now + this.ttlMs;
    this.lost = undefined;
    this.renewTimer ??= setInterval(() => void this.renew(), this.renewEveryMs);
    return undefined;
  }

  /**
   * Waits until the lease is taken, trying every `renewEveryMs`; `onWait` is told the holder once, when the
   * first try finds the lease held. Rejects when `signal` aborts (e.g. the process is stopping).
   */
  async acquire(onWait?: (holder: LeaseHolder) => void, signal?: AbortSignal): Promise<void> {
    let told = false;
    for (;;) {
      signal?.throwIfAborted();
      const holder = await this.tryAcquire();
      if (holder === undefined) return;
      if (!told) onWait?.(holder);
      told = true;
      await new Promise((resolve) => setTimeout(resolve, this.renewEveryMs));
    }
  }

  /** Throws unless the lease is held with more than a second to go (before every batch the projector writes). */
  assertHeld(): void {
    if (this.lost !== undefined) throw new Error(`The projector lease was lost: ${this.lost}`);
    if (this.heldUntil - Date.now() < SAFETY_MARGIN_MS)
      throw new Error('The projector lease is not held (or about to expire): not writing the read models.');
  }

  /** Stops renewing and frees the lease if this taking still holds it (another projector may take it at once). */
  async release(): Promise<void> {
    if (this.renewTimer !== undefined) clearInterval(this.renewTimer);
    this.renewTimer = undefined;
    await this.renewing;
    const token = this.token;
    this.heldUntil = 0;
    this.token = '';
    if (token !== '') await this.leases.deleteOne({ _id: LEASE_ID, token }).catch(() => undefined);
  }

  private renew(): Promise<void> {
    this.renewing ??= (async () => {
      if (this.lost !== undefined || this.token === '') return;
      const now = Date.now();
      try {
        const result = await this.leases.updateOne(
          { _id: LEASE_ID, token: this.token },
          { $set: { expiresAt: now + this.ttlMs } },
        );
        if (result.matchedCount === 1) this.heldUntil = now + this.ttlMs;
        else this.lose('another projector took it over');
      } catch {
        // Unreachable for now: retried at the next tick; past the expiry the lease counts as lost.
        if (Date.now() >= this.heldUntil) this.lose('it could not be renewed before it expired');
      }
    })().finally(() => {
      this.renewing = undefined;
    });
    return this.renewing;
  }

  private lose(reason: string): void {
    if (this.lost !== undefined) return;
    this.lost = reason;
    this.heldUntil = 0;
    if (this.renewTimer !== undefined) clearInterval(this.renewTimer);
    this.renewTimer = undefined;
    this.onLost(reason);
  }
}
