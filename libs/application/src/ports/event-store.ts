import type { Actor, StoredEvent, StoredRequestMetadata } from '@arbor/domain';
import type { ChainLink } from '../history/event-chain';

/** An event handed to the store: the store gives it its id, position, stream version and time. */
export interface NewEvent {
  type: string;
  data: unknown;
  actor: Actor;
  orgPath: string[];
  /**
   * The request that caused it, as the log keeps it (sealed for a user actor): stored in its own column, and
   * its digest (`requestMetadataDigest`) in the hashed content, so that retention can drop it later.
   */
  requestMetadata?: StoredRequestMetadata;
}

/** `no_stream`: the stream must not exist yet. `any`: no check. A number: the stream's current version. */
export type ExpectedVersion = number | 'no_stream' | 'any';

export type AppendResult =
  | { ok: true; events: StoredEvent[]; streamVersion: number; lastPosition: number }
  | { ok: false; error: 'IAM_ERR_VERSION_CONFLICT'; streamId: string; expected: ExpectedVersion; actual: number };

export interface EventQuery {
  /** Only events with a position strictly greater than this. */
  after?: number;
  limit: number;
  types?: string[];
  streamId?: string;
  /** Events about this organization or anything that was below it when the event happened. */
  orgId?: string;
  /**
   * The same condition for a second organization, both holding: a tenant's own subtree (its client reads nothing
   * else), kept beside an `orgId` it asks for, since an organization inside its subtree today may not have been
   * when an event happened (a move) and the event is then none of the tenant's business.
   */
  withinOrg?: string;
  actorId?: string;
  /** ISO timestamps, inclusive bounds on `occurredAt`. */
  since?: string;
  until?: string;
}

/**
 * Every adapter refuses a query without a usable `limit` the same way, with this error: TypeScript requires
 * one, but a caller that slipped past it would otherwise get an engine's own error, or the whole log.
 */
export function assertEventQueryLimit(limit: unknown): asserts limit is number {
  if (typeof limit !== 'number' || !Number.isSafeInteger(limit) || limit < 1) {
    throw new Error(`EventStore.readAll needs a whole, positive limit, not ${String(limit)}.`);
  }
}

/** What a POST with an `Idempotency-Key` left behind (contract section 1). */
export interface IdempotencyRecord {
  scope: string;
  key: string;
  requestHash: string;
  createdAt: string;
  /**
   * The first response once it has been sent. Until then, a provisional one written with the command's
   * events: `body` null and `position` the command's last event, from which a replay can rebuild it.
   */
  response?: StoredResponse;
}

/** A response kept for replays (contract section 1). Adapters store it as JSON, whatever its fields. */
export interface StoredResponse {
  status: number;
  headers: Record<string, string>;
  /** The body as sent, or null: not sent yet, sealed (see `sealedBody`), or its subject was erased. */
  body: unknown;
  position?: number;
  /**
   * A body that is personal data of one subject, sealed under that subject's own key (PersonalDataCipher,
   * `v1.` form): destroying the key erases it with the rest of their data. `body` is then null. `sealedHeaders`:
   * the headers derived from the body (its ETag), taken out of `headers` and sealed apart under the same key (a
   * reader that predates them replays the body without them).
   */
  sealedBody?: { subjectId: string; sealed: string; sealedHeaders?: string };
}

/** A checkpoint as the store keeps it: the position it signs, and the signed head (a compact JWS). */
export interface StoredCheckpoint {
  position: number;
  jws: string;
}

/** Everything a command may do, atomically, inside one write transaction. */
export interface EventStoreTransaction {
  readStream(streamId: string): Promise<StoredEvent[]>;
  /** Events after `after` in position order: how the command side catches up inside the transaction. */
  readAll(after: number, limit: number): Promise<StoredEvent[]>;
  append(streamId: string, events: NewEvent[], expected: ExpectedVersion): Promise<AppendResult>;
  findIdempotency(scope: string, key: string): Promise<IdempotencyRecord | undefined>;
  /** Records the key in the same transaction as the command's events (both persist or neither); replaces an expired record. */
  saveIdempotency(record: IdempotencyRecord): Promise<void>;
}

/**
 * The event log. Invariants every adapter keeps:
 * - `position` only grows, and a reader that has seen position P never later meets an event below P;
 * - an append whose expected version does not match the stream's is refused (a conflict, never a lost write);
 * - write transactions are serialised, and a transaction that throws leaves nothing behind;
 * - every event is chained to the one before it in position order (event-chain.ts), in the same transaction.
 */
export interface EventStore {
  transaction<T>(work: (tx: EventStoreTransaction) => Promise<T>): Promise<T>;
  readAll(query: EventQuery): Promise<StoredEvent[]>;
  readStream(streamId: string): Promise<StoredEvent[]>;
  /**
   * The hash chain's links after position `after`, in position order, at most `limit` (see event-chain.ts):
   * events exactly as stored (not upcast, unlike every other read), with the hashes they carry. For verifiers.
   */
  readChainLinks(after: number, limit: number): Promise<ChainLink[]>;
  /**
   * Keeps a checkpoint of the chain: a signed head (signed-head.ts) of the event at `position`. Not an event (it
   * holds no domain state and stands outside the chain); saving one for a position that has one keeps the first.
   */
  saveChainCheckpoint(position: number, jws: string): Promise<void>;
  /** The checkpoints after position `after`, in position order, at most `limit`. */
  readChainCheckpoints(after: number, limit: number): Promise<StoredCheckpoint[]>;
  /**
   * The first position whose organization index rows (what the `orgId` filter of `readAll` reads) differ from the
   * event's hashed `orgPath`, or an index row whose event is gone; undefined when they all agree. Verification asks
   * it: the index is derived, so the chain does not cover it. Reads both whole (seconds at 300k events).
   */
  firstOrgIndexMismatch(): Promise<number | undefined>;
  /** The checkpoint of the highest position, if any: one descending seek. */
  lastChainCheckpoint(): Promise<StoredCheckpoint | undefined>;
  /** The highest position written so far (0 when empty). */
  headPosition(): Promise<number>;
  /**
   * Readiness: whether the store takes a write now (a full disk fails every write while reads still work).
   * Writes and removes a probe in one committed transaction, leaving the log unchanged. Rejects with the
   * engine's error (SQLITE_FULL, PostgreSQL 53100 disk_full, ...), which `isStorageUnavailable` recognises.
   */
  probeWrite(): Promise<void>;
  /** Attaches the response to an idempotency record written by a committed command. */
  completeIdempotency(scope: string, key: string, response: StoredResponse): Promise<void>;
  findIdempotency(scope: string, key: string): Promise<IdempotencyRecord | undefined>;
  /**
   * Deletes the idempotency records created before `createdBefore` (an ISO 8601 UTC time, compared as
   * text with `createdAt`): expired keys are never replayed, and what they held must not stay at rest.
   */
  purgeIdempotency(createdBefore: string): Promise<void>;
  /**
   * Retention of the audit trail's optional fields (issue 14 item 7): drops the request metadata of the events
   * that occurred before `occurredBefore` (an ISO 8601 UTC time), keeping each event's `metadataDigest`, so the
   * chain still verifies and the event reads `requestMetadata: null` (dropped). Nothing else of an event changes.
   * Returns how many events lost their metadata. Idempotent; safe beside appends.
   * `orgId`: only the events about that organization or anything that was below it when the event happened (the
   * `orgId` filter of `readAll`): how an organization's shorter retention applies to its subtree.
   */
  dropRequestMetadata(occurredBefore: string, orgId?: string): Promise<number>;
  /**
   * Whether `dropRequestMetadata(occurredBefore, orgId)` would drop anything now: some event that occurred before
   * `occurredBefore` (in `orgId`'s subtree when given) still holds request metadata. The purge asks it first, so
   * that it records a RequestMetadataDropped only for a drop that changes something.
   */
  hasRequestMetadataBefore(occurredBefore: string, orgId?: string): Promise<boolean>;
  close(): Promise<void>;
}
