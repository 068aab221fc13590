import { CHAIN_GENESIS } from '@arbor/application';

/** The last event's time and hash, as `EventStatements.lastLink` reads them (no row on an empty log). */
export interface LastLinkRow {
  occurred_at: Date;
  hash: Buffer | null;
}

/**
 * The tip of the hash chain as one write group sees it (event-chain.ts in @arbor/application): read with the
 * writers' lock when the group begins, then advanced by each append that inserted, so the group's callbacks
 * chain one after another without reading it again. A callback rolled back to its savepoint takes its links
 * with it: the group restores the tip it had before that callback (`mark` / `restore`).
 */
export class ChainTip {
  private constructor(
    /** ISO 8601, or undefined on an empty log. */
    private occurredAt: string | undefined,
    /** Null: the last event was never chained (see chainUnchainedEvents), so nothing may be chained onto it. */
    private hash: Buffer | null,
  ) {}

  static of(row: LastLinkRow | undefined): ChainTip {
    return row === undefined
      ? new ChainTip(undefined, CHAIN_GENESIS)
      : new ChainTip(row.occurred_at.toISOString(), row.hash);
  }

  /** The time to stamp the next events with: `now`, but never before the last event's (times grow with positions). */
  stampAfter(now: string): string {
    return this.occurredAt !== undefined && this.occurredAt > now ? this.occurredAt : now;
  }

  /** The hash the next event is chained to. Throws if the last event is unchained. */
  prevHash(): Buffer {
    if (this.hash === null)
      throw new Error(
        'The last event of the log carries no hash: it was written before the hash chain and never chained, or its hash was cleared. Verify the log (arbor events verify).',
      );
    return this.hash;
  }

  advance(occurredAt: string, hash: Buffer): void {
    this.occurredAt = occurredAt;
    this.hash = hash;
  }

  mark(): { occurredAt: string | undefined; hash: Buffer | null } {
    return { occurredAt: this.occurredAt, hash: this.hash };
  }

  restore(mark: { occurredAt: string | undefined; hash: Buffer | null }): void {
    this.occurredAt = mark.occurredAt;
    this.hash = mark.hash;
  }
}
