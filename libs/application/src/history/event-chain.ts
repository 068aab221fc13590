import type { StoredEvent, StoredRequestMetadata } from '@arbor/domain';
import canonicalize from 'canonicalize';
import { createHash } from 'node:crypto';
import { CheckpointCursor, type CheckpointReader } from './checkpoint-cursor';

/**
 * The event log's hash chain (issue 14, tamper evidence). Every event carries the hash of the event before it
 * in position order (`prevHash`, 32 zero bytes for the first) and its own:
 *
 *   hash = SHA-256( prevHash || UTF-8( JCS(link content) ) )
 *
 * where JCS is the JSON Canonicalization Scheme (RFC 8785) and the link content is the event as stored, before
 * any upcast: `{ id, streamId, streamVersion, type, occurredAt, actor, orgPath, data }` (see `linkContent`), and
 * `metadataDigest` for an event written with request metadata: the metadata itself is not hashed, only its
 * digest, so that retention may drop it (null the column) without breaking a link; while it is there, it must
 * hash to that digest. Events written before request metadata have no member: their hashes are unchanged.
 * One chain over the global order: writers are serialised already (SQLite's single writer, PostgreSQL's
 * advisory lock), so it serialises nothing more.
 *
 * The position is not hashed: the chain itself is the order, so a reordered event is seen as a link that points
 * at a later event (rather than as an altered one), and positions are bound by the signed checkpoints. Hashes
 * cover personal data only as sealed (`v1.` ciphertexts), so erasing a subject's key leaves the chain valid.
 */
export const CHAIN_GENESIS: Buffer = Buffer.alloc(32);

/** An event as the store holds it (its data not upcast), with its two links. Null links: not chained yet. */
export interface ChainLink {
  event: StoredEvent;
  prevHash: Uint8Array | null;
  hash: Uint8Array | null;
  /**
   * Set when the stored row could not be decoded (e.g. a JSON column that does not parse: Arbor never writes one),
   * saying why; `event` then holds only the row's plain columns. The verifier reports such an event as altered.
   */
  unreadable?: string;
}

/** The last link of the chain: what the next event is chained to. */
export interface ChainHead {
  /** 0 on an empty log. */
  position: number;
  /** CHAIN_GENESIS on an empty log. */
  hash: Uint8Array;
}

/**
 * The hashed form of an event: every field of the envelope except the position (see the module comment), in RFC
 * 8785 form. The envelope's fields are fixed, so their members are written here in JCS order (keys sorted by UTF-16
 * code units; strings and numbers as ECMAScript's JSON.stringify writes them, which is what JCS prescribes); `data`,
 * whose shape varies by type, goes through `canonicalize`. The unit test holds this equal to canonicalize over
 * the whole object (a third of the cost: it runs inside the write lock, once per event appended).
 */
export function linkContent(event: Omit<StoredEvent, 'position'>): string {
  const s = JSON.stringify;
  // "metadataDigest" sorts between "id" and "occurredAt"; absent (not null) on events without metadata.
  const digest = event.metadataDigest === undefined ? '' : `,"metadataDigest":${s(event.metadataDigest)}`;
  return (
    `{"actor":{"id":${s(event.actor.id)},"type":${s(event.actor.type)}},"data":${canonicalize(event.data ?? null)}` +
    `,"id":${s(event.id)}${digest},"occurredAt":${s(event.occurredAt)},"orgPath":${canonicalize(event.orgPath)}` +
    `,"streamId":${s(event.streamId)},"streamVersion":${canonicalize(event.streamVersion)},"type":${s(event.type)}}`
  );
}

/**
 * The digest the chain hashes in place of an event's request metadata: SHA-256 of its RFC 8785 form (so the
 * engine's JSON storage, key order included, does not matter), unpadded base64url (RFC 4648 section 5).
 */
export const requestMetadataDigest = (metadata: StoredRequestMetadata): string =>
  createHash('sha256')
    .update(canonicalize(metadata) as string, 'utf8')
    .digest('base64url');

/**
 * The members a store writes for a new event's request metadata: none without it; with it, the metadata and its
 * digest (`requestMetadataDigest`), which the event's hash then covers (`chainHash`).
 */
export function storedMetadataOf(event: { requestMetadata?: StoredRequestMetadata }): {
  requestMetadata?: StoredRequestMetadata;
  metadataDigest?: string;
} {
  const metadata = event.requestMetadata;
  return metadata === undefined ? {} : { requestMetadata: metadata, metadataDigest: requestMetadataDigest(metadata) };
}

/**
 * Whether an event's request metadata agrees with the digest its link hashes: none without a digest; with one,
 * either dropped (null or absent) or hashing to it. A dropped one is accepted by the verifier only where a recorded
 * retention drop covers it (MetadataDrops).
 */
export function requestMetadataIntact(event: Pick<StoredEvent, 'requestMetadata' | 'metadataDigest'>): boolean {
  const metadata = event.requestMetadata;
  if (event.metadataDigest === undefined) return metadata === undefined || metadata === null;
  return metadata === undefined || metadata === null || requestMetadataDigest(metadata) === event.metadataDigest;
}

/** Whether the event was written with request metadata (it has a digest) that is no longer there. */
export const requestMetadataDropped = (event: Pick<StoredEvent, 'requestMetadata' | 'metadataDigest'>): boolean =>
  event.metadataDigest !== undefined && (event.requestMetadata === undefined || event.requestMetadata === null);

/** The event type that records a retention drop of request metadata (RequestMetadataDroppedData in @arbor/domain). */
export const METADATA_DROP_TYPE = 'RequestMetadataDropped';

/** A recorded retention drop: at log position `position`, the metadata of events before `before` (of `orgId`'s subtree). */
export interface MetadataDrop {
  position: number;
  /** An RFC 3339 instant. */
  before: string;
  /** Null: the server-wide cutoff. */
  orgId: string | null;
}

/** The drop a RequestMetadataDropped event records; undefined for any other event (or one whose data is not a drop). */
export function metadataDropOf(event: Pick<StoredEvent, 'type' | 'position' | 'data'>): MetadataDrop | undefined {
  if (event.type !== METADATA_DROP_TYPE) return undefined;
  const d = event.data as { before?: unknown; orgId?: unknown } | null;
  if (d === null || typeof d !== 'object' || typeof d.before !== 'string' || Number.isNaN(Date.parse(d.before)))
    return undefined;
  if (d.orgId !== null && typeof d.orgId !== 'string') return undefined;
  return { position: event.position, before: d.before, orgId: d.orgId };
}

/** The drops of one scope (one organization, or the server's), in position order, with the latest cutoff from each on. */
class DropScope {
  readonly positions: number[] = [];
  readonly befores: number[] = [];
  private suffixMax: number[] = [];

  add(position: number, before: number): void {
    this.positions.push(position);
    this.befores.push(before);
    this.suffixMax = [];
  }

  /** Whether a drop after `position` has a cutoff later than `occurredAt` (ms). */
  covers(position: number, occurredAt: number): boolean {
    const n = this.positions.length;
    if (this.suffixMax.length !== n) {
      this.suffixMax = new Array<number>(n);
      for (let i = n - 1, max = -Infinity; i >= 0; i--) this.suffixMax[i] = max = Math.max(max, this.befores[i]);
    }
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.positions[mid] > position) hi = mid;
      else lo = mid + 1;
    }
    return lo < n && occurredAt < this.suffixMax[lo];
  }
}

/**
 * The retention drops the log records (RequestMetadataDropped), for the verifier: an event's request metadata may be
 * gone (null or absent beside its digest) only where a drop at a LATER position covers it: the event occurred before
 * the drop's `before`, and for an organization's drop, the organization is on the event's `orgPath`. The purge records
 * each drop before it makes it, so metadata nulled behind the server's back is not covered and breaks the chain
 * (`metadata`). `more`, when given, reads the drops recorded since those known (from the position after the last one
 * added): asked once before an event is rejected, so that a drop recorded while the log is verified still counts.
 */
export class MetadataDrops {
  private readonly scopes = new Map<string | null, DropScope>();
  private last = 0;

  constructor(
    drops: Iterable<MetadataDrop> = [],
    private readonly more?: (after: number) => Promise<MetadataDrop[]>,
  ) {
    for (const drop of drops) this.add(drop);
  }

  /** Adds a drop; drops are added in position order (a later one is ignored if it goes back). */
  add(drop: MetadataDrop): void {
    if (drop.position <= this.last) return;
    this.last = drop.position;
    let scope = this.scopes.get(drop.orgId);
    if (scope === undefined) this.scopes.set(drop.orgId, (scope = new DropScope()));
    scope.add(drop.position, Date.parse(drop.before));
  }

  /** Whether a recorded drop covers the event's missing metadata (see the class comment). */
  async covers(event: Pick<StoredEvent, 'position' | 'occurredAt' | 'orgPath'>): Promise<boolean> {
    if (this.coveredNow(event)) return true;
    if (this.more === undefined) return false;
    for (const drop of await this.more(this.last)) this.add(drop);
    return this.coveredNow(event);
  }

  private coveredNow(event: Pick<StoredEvent, 'position' | 'occurredAt' | 'orgPath'>): boolean {
    const at = Date.parse(event.occurredAt);
    for (const key of [null, ...event.orgPath])
      if (this.scopes.get(key)?.covers(event.position, at) === true) return true;
    return false;
  }
}

/**
 * The drops a store's log records after position `after` (readAll by type), and reads the ones recorded later when
 * the verifier asks (MetadataDrops `more`).
 */
export async function readMetadataDrops(
  store: { readAll(query: { after?: number; limit?: number; types?: string[] }): Promise<StoredEvent[]> },
  after = 0,
): Promise<MetadataDrops> {
  const read = async (from: number): Promise<MetadataDrop[]> => {
    const found: MetadataDrop[] = [];
    for (;;) {
      const page = await store.readAll({ after: from, limit: 1000, types: [METADATA_DROP_TYPE] });
      for (const e of page) {
        const drop = metadataDropOf(e);
        if (drop !== undefined) found.push(drop);
        from = e.position;
      }
      if (page.length < 1000) return found;
    }
  };
  return new MetadataDrops(await read(after), read);
}

/** SHA-256 over the previous hash and the event's canonical content (32 bytes). */
export function chainHash(prevHash: Uint8Array, event: Omit<StoredEvent, 'position'>): Buffer {
  return createHash('sha256').update(prevHash).update(linkContent(event), 'utf8').digest();
}

/** How a chain broke, as the verifier names it at the first event it cannot accept. */
export type ChainBreakKind =
  /**
   * The event's content or its own hash was changed: its hash no longer follows from its content, or its request
   * metadata does not hash to the digest the link holds.
   */
  | 'altered'
  /** One or more events before this one are missing: it points at a hash no event in the log has. */
  | 'removed'
  /** The events from `position` up to the next intact link were added: the next intact event skips them. */
  | 'inserted'
  /** This event points at an event that now stands after it: events were moved. */
  | 'reordered'
  /** Written before the chain existed and not chained yet (the store chains them when it is opened for writing). */
  | 'unchained'
  /** The chain holds together but not through a signed checkpoint: rewritten up to it, hashes recomputed. */
  | 'rewritten'
  /** A signed checkpoint names an event after the log's last: events were cut from the end. */
  | 'truncated'
  /** A stored checkpoint whose signature does not verify. */
  | 'checkpoint'
  /** The organization index (derived, not hashed) disagrees with the event's orgPath (verifyEventLog). */
  | 'index'
  /**
   * The event's request metadata is gone (its digest stays) and no recorded retention drop (RequestMetadataDropped
   * at a later position) covers it: it was removed behind the server's back.
   */
  | 'metadata';

export interface ChainBreak {
  kind: ChainBreakKind;
  /** The position of the first event the verifier rejects. */
  position: number;
  /** The event's id, when the event is there to name. */
  eventId?: string;
  /** One sentence for a person. */
  detail: string;
}

/**
 * What `verifyEventChain` found. `events` counts the events accepted before the first break, if any; `checkpoints`
 * the signed checkpoints the chain passed through; `uncheckedCheckpoints` those it skipped, signed by keys the
 * verifier does not hold (revoked since, or another issuer's set: see UncheckedCheckpoint), no evidence either way.
 */
export type ChainVerification =
  | { valid: true; events: number; checkpoints: number; uncheckedCheckpoints: number; head: ChainHead }
  | {
      valid: false;
      events: number;
      checkpoints: number;
      uncheckedCheckpoints: number;
      head: ChainHead;
      firstBreak: ChainBreak;
    };

/** Reads links after a position, in position order, at most `limit` (the stores' `readChainLinks`). */
export type ChainLinkReader = (after: number, limit: number) => Promise<ChainLink[]>;

export interface ChainVerifyOptions {
  /** Links per read. Default 2,000. */
  pageSize?: number;
  /** Called after each page with the events accepted so far and the last position read. */
  onProgress?: (accepted: number, position: number) => void;
  /** The signed checkpoints the chain must pass through (see CheckpointCursor); none when absent. */
  checkpoints?: CheckpointReader;
  /**
   * Starts after this link instead of the genesis, trusting the log up to it (a checkpoint writer verifies only
   * what came since its last checkpoint). `events` then counts from there.
   */
  from?: ChainHead;
  /**
   * The recorded retention drops (readMetadataDrops): an event whose request metadata is gone is accepted only where
   * one at a later position covers it. Absent: none, so every event whose metadata is gone breaks the chain.
   */
  metadataDrops?: MetadataDrops;
}

/**
 * Walks the whole log in position order and checks every link: each event's hash must follow from its
 * `prevHash` and content, and its `prevHash` must be the hash of the event before it (CHAIN_GENESIS for the
 * first). Stops at the first event it cannot accept and names it and how the chain broke (see `classifyBreak`:
 * only then does it read the log again, at most three passes). Between pages it yields to the event
 * loop, so a server stays responsive while it verifies.
 *
 * What the chain alone cannot see: events cut from the end of the log, and a log rewritten from some event on
 * with every later hash recomputed. Signed checkpoints (a signature over a position and its hash) close both.
 */
export async function verifyEventChain(
  read: ChainLinkReader,
  options: ChainVerifyOptions = {},
): Promise<ChainVerification> {
  const pageSize = options.pageSize ?? 2_000;
  if (!Number.isSafeInteger(pageSize) || pageSize < 1) throw new RangeError(`pageSize must be a whole number >= 1.`);
  let head: ChainHead = options.from ?? { position: 0, hash: CHAIN_GENESIS };
  let accepted = 0;
  const checkpoints = new CheckpointCursor(options.checkpoints ?? (async () => []));
  const drops = options.metadataDrops ?? new MetadataDrops();
  const broken = (firstBreak: ChainBreak): ChainVerification => ({
    valid: false,
    events: accepted,
    checkpoints: checkpoints.matched,
    uncheckedCheckpoints: checkpoints.unchecked,
    head,
    firstBreak,
  });
  for (;;) {
    const page = await read(head.position, pageSize);
    for (const link of page) {
      const firstBreak = (await checkLink(link, head, read, pageSize, drops)) ?? (await checkpoints.beside(link));
      if (firstBreak !== undefined) return broken(firstBreak);
      head = { position: link.event.position, hash: link.hash as Uint8Array };
      accepted++;
    }
    if (page.length > 0) options.onProgress?.(accepted, head.position);
    if (page.length < pageSize) {
      const cut = await checkpoints.atEnd(head);
      if (cut !== undefined) return broken(cut);
      return {
        valid: true,
        events: accepted,
        checkpoints: checkpoints.matched,
        uncheckedCheckpoints: checkpoints.unchecked,
        head,
      };
    }
    await new Promise((resolve) => setImmediate(resolve));
  }
}

async function checkLink(
  link: ChainLink,
  head: ChainHead,
  read: ChainLinkReader,
  pageSize: number,
  drops: MetadataDrops,
): Promise<ChainBreak | undefined> {
  const { event, prevHash, hash } = link;
  const at = { position: event.position, eventId: event.id };
  if (link.unreadable !== undefined)
    return { kind: 'altered', ...at, detail: `Event ${event.position} cannot be read: ${link.unreadable}.` };
  if (prevHash === null || hash === null)
    return { kind: 'unchained', ...at, detail: `Event ${event.position} carries no hash: it was never chained.` };
  const intact = chainHash(prevHash, event).equals(hash) && requestMetadataIntact(event);
  if (intact && Buffer.compare(prevHash, head.hash) === 0) {
    if (!requestMetadataDropped(event) || (await drops.covers(event))) return undefined;
    return {
      kind: 'metadata',
      ...at,
      detail: `Event ${event.position}'s request metadata was removed without a recorded retention drop.`,
    };
  }
  return classifyBreak(link, intact, head, new LinkScanner(read, pageSize));
}

/**
 * The event at `link` does not follow `head` (the last event accepted). Where the links lead tells what
 * happened, tried in this order:
 * - it is intact and points at an event standing after it: events were reordered;
 * - a later event points at `head`: this one and those up to that event were inserted;
 * - it does not hash to its own hash: it was altered;
 * - it points at an event before `head`: the events after that one, up to here, were inserted;
 * - it points at no event in the log: the event it followed was removed.
 */
async function classifyBreak(
  link: ChainLink,
  intact: boolean,
  head: ChainHead,
  links: LinkScanner,
): Promise<ChainBreak> {
  const { event } = link;
  const prev = link.prevHash as Uint8Array;
  const at = { position: event.position, eventId: event.id };
  const target = intact ? await links.find(0, (other) => sameHash(other.hash, prev)) : undefined;
  if (target !== undefined && target.event.position > event.position)
    return {
      kind: 'reordered',
      ...at,
      detail: `Event ${event.position} follows event ${target.event.position}, which now stands after it.`,
    };
  const resumed = await links.find(event.position, (other) => sameHash(other.prevHash, head.hash));
  if (resumed !== undefined) return inserted(link, resumed.event.position);
  if (!intact)
    return { kind: 'altered', ...at, detail: `Event ${event.position} does not hash to the hash it carries.` };
  const followed = Buffer.compare(prev, CHAIN_GENESIS) === 0 ? 0 : target?.event.position;
  if (followed !== undefined) {
    const [first] = await links.read(followed, 1);
    return inserted(first, event.position);
  }
  return {
    kind: 'removed',
    ...at,
    detail: `The event that event ${event.position} follows is missing (removed after position ${head.position}).`,
  };
}

const sameHash = (a: Uint8Array | null, b: Uint8Array): boolean => a !== null && Buffer.compare(a, b) === 0;

/** Scans the log for a link (only to classify a break: at most a few passes, once per verification). */
class LinkScanner {
  constructor(
    readonly read: ChainLinkReader,
    private readonly pageSize: number,
  ) {}

  async find(after: number, matches: (link: ChainLink) => boolean): Promise<ChainLink | undefined> {
    for (;;) {
      const page = await this.read(after, this.pageSize);
      const found = page.find(matches);
      if (found !== undefined) return found;
      if (page.length < this.pageSize) return undefined;
      after = page[page.length - 1].event.position;
    }
  }
}

function inserted(first: ChainLink, intact: number): ChainBreak {
  return {
    kind: 'inserted',
    position: first.event.position,
    eventId: first.event.id,
    detail: `Events from position ${first.event.position} to before ${intact} are not in the chain: they were inserted.`,
  };
}

/** A hash as the API and exports show it: unpadded base64url (RFC 4648 section 5). */
export const encodeChainHash = (hash: Uint8Array): string => Buffer.from(hash).toString('base64url');
