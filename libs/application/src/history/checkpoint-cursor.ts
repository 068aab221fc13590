import type { ChainBreak, ChainHead, ChainLink } from './event-chain';

/** A checkpoint whose signature verified: the hash the chain must carry at `position`, signed at `signedAt`. */
export interface ChainCheckpoint {
  position: number;
  hash: Uint8Array;
  /** Seconds since the epoch (the signed head's `iat`). */
  signedAt: number;
  /** Events in the log up to it (the signed head's `events`). */
  events: number;
}

/** A stored checkpoint whose signature does not verify (`invalid` says why): forged or altered, a break. */
export interface UnverifiedCheckpoint {
  position: number;
  invalid: string;
}

/**
 * A stored checkpoint signed by a key the verifier's set does not hold (`unchecked` says which): a key revoked since
 * (it could have been forged with it), or a set of another issuer. It is no evidence either way: the walk skips it
 * and counts it. Skipping one gives a forger nothing they lack: whoever can store a checkpoint beside the log can
 * delete one too (the contract's "what still escapes"); signed heads kept outside the server stay the anchor.
 */
export interface UncheckedCheckpoint {
  position: number;
  unchecked: string;
}

/** A stored checkpoint as the verifier takes it (checkpointOf). */
export type CheckedCheckpoint = ChainCheckpoint | UnverifiedCheckpoint | UncheckedCheckpoint;

/** Checkpoints after a position, in position order, at most `limit`, their signatures already checked. */
export type CheckpointReader = (after: number, limit: number) => Promise<CheckedCheckpoint[]>;

const PAGE = 500;

/**
 * Walks the checkpoints beside the chain (verifyEventChain): each one must name an event the walk meets, with the
 * hash that event carries. What it finds the chain alone cannot: a log rewritten before a checkpoint with every
 * later hash recomputed (`rewritten`), events cut from the end (`truncated`), and a stored checkpoint whose
 * signature does not verify (`checkpoint`: forged or altered). One signed by a key the verifier does not hold
 * (UncheckedCheckpoint: revoked since, or another set) is skipped and counted in `unchecked`.
 */
export class CheckpointCursor {
  private page: CheckedCheckpoint[] = [];
  private index = 0;
  private after = 0;
  private exhausted = false;
  /** Checkpoints matched so far. */
  matched = 0;
  /** Checkpoints skipped so far, signed by keys the verifier does not hold. */
  unchecked = 0;

  constructor(private readonly read: CheckpointReader) {}

  /** Checks the checkpoints up to the event at `link`, which the chain accepted. */
  async beside(link: ChainLink): Promise<ChainBreak | undefined> {
    for (let next = await this.peek(); next !== undefined; next = await this.peek()) {
      if (next.position > link.event.position) return undefined;
      this.index++;
      if ('unchecked' in next) {
        this.unchecked++;
        continue;
      }
      if ('invalid' in next) return unverified(next);
      if (next.position < link.event.position)
        return {
          kind: 'rewritten',
          position: next.position,
          detail: `The checkpoint signed at ${instant(next)} names event ${next.position}, which the log no longer holds: it was rewritten before ${link.event.position}.`,
        };
      if (Buffer.compare(next.hash, link.hash as Uint8Array) !== 0)
        return {
          kind: 'rewritten',
          position: next.position,
          eventId: link.event.id,
          detail: `Event ${next.position} does not carry the hash signed at ${instant(next)}: the log was rewritten up to it.`,
        };
      this.matched++;
    }
    return undefined;
  }

  /** After the last event (`head`): a checkpoint beyond it means events were cut from the end. */
  async atEnd(head: ChainHead): Promise<ChainBreak | undefined> {
    let next = await this.peek();
    for (; next !== undefined && 'unchecked' in next; next = await this.peek()) {
      this.index++;
      this.unchecked++;
    }
    if (next === undefined) return undefined;
    if ('invalid' in next) return unverified(next);
    return {
      kind: 'truncated',
      position: next.position,
      detail: `The log ends at position ${head.position}, but a checkpoint signed at ${instant(next)} names event ${next.position}: events were cut from its end.`,
    };
  }

  private async peek(): Promise<CheckedCheckpoint | undefined> {
    if (this.index < this.page.length) return this.page[this.index];
    if (this.exhausted) return undefined;
    this.page = await this.read(this.after, PAGE);
    this.index = 0;
    if (this.page.length < PAGE) this.exhausted = true;
    if (this.page.length === 0) return undefined;
    this.after = this.page[this.page.length - 1].position;
    return this.page[0];
  }
}

const instant = (checkpoint: ChainCheckpoint): string => new Date(checkpoint.signedAt * 1000).toISOString();

const unverified = (checkpoint: UnverifiedCheckpoint): ChainBreak => ({
  kind: 'checkpoint',
  position: checkpoint.position,
  detail: `The checkpoint at position ${checkpoint.position} does not verify: ${checkpoint.invalid}`,
});
