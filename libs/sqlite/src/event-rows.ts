import type { ChainLink, IdempotencyRecord } from '@arbor/application';
import { upcastStoredEvent, type Actor, type StoredEvent, type StoredRequestMetadata } from '@arbor/domain';

/** The columns of the events table before request metadata (what migration 3 chains). */
export const BASE_EVENT_COLUMNS =
  'e.position, e.id, e.stream_id, e.stream_version, e.type, e.occurred_at, e.actor_type, e.actor_id, e.data, e.org_path';

/** The columns every event read selects, in the shape `toStoredEvent` expects. */
export const EVENT_COLUMNS = `${BASE_EVENT_COLUMNS}, e.request_metadata, e.metadata_digest`;

export interface EventRow {
  position: number;
  id: string;
  stream_id: string;
  stream_version: number;
  type: string;
  occurred_at: string;
  actor_type: Actor['type'];
  actor_id: string;
  data: string;
  org_path: string;
  /** JSON text; null when none was written or retention dropped it (then `metadata_digest` tells which). */
  request_metadata?: string | null;
  metadata_digest?: string | null;
}

/**
 * The event a row holds, its `data` upcast to the current schema version (the event catalogue's): every
 * read of the log goes through here, so nothing above the store sees an older shape. The table keeps no
 * schema version: every row is version 1 (see `upcastStoredEvent`).
 */
export const toStoredEvent = (row: EventRow): StoredEvent => upcastStoredEvent(asStoredEvent(row));

/**
 * A stored event whose JSON columns do not parse: Arbor writes only JSON there, so the row was altered outside
 * Arbor (or the file is damaged). Reads of the log fail with it, naming the position; the chain's verification
 * reports the event as altered instead (`toChainLink`).
 */
export class UnreadableEventError extends Error {
  constructor(
    readonly position: number,
    readonly column: string,
  ) {
    super(
      `The event at position ${position} cannot be read: its ${column} is not JSON (altered outside Arbor? \`arbor events verify\` names the first damaged event).`,
    );
    this.name = 'UnreadableEventError';
  }
}

function parseColumn(row: EventRow, column: 'data' | 'org_path' | 'request_metadata', text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new UnreadableEventError(row.position, column);
  }
}

/** The envelope's plain columns, and `data` and `orgPath` as given. */
const envelopeOf = (row: EventRow, data: unknown, orgPath: string[]): StoredEvent => ({
  id: row.id,
  type: row.type,
  streamId: row.stream_id,
  streamVersion: row.stream_version,
  position: row.position,
  occurredAt: row.occurred_at,
  actor: { type: row.actor_type, id: row.actor_id },
  data,
  orgPath,
});

/** The event exactly as stored: no upcast (what the hash chain covers). Throws UnreadableEventError. */
export function asStoredEvent(row: EventRow): StoredEvent {
  const event = envelopeOf(
    row,
    parseColumn(row, 'data', row.data),
    parseColumn(row, 'org_path', row.org_path) as string[],
  );
  // Members only when there is something to say (see StoredEvent): old events stay exactly as they were.
  if (row.metadata_digest !== undefined && row.metadata_digest !== null) event.metadataDigest = row.metadata_digest;
  if (row.request_metadata !== undefined && row.request_metadata !== null)
    event.requestMetadata = parseColumn(row, 'request_metadata', row.request_metadata) as StoredRequestMetadata;
  else if (event.metadataDigest !== undefined) event.requestMetadata = null;
  return event;
}

/** The chain's columns after the event's (see `ChainLink`). */
export const CHAIN_COLUMNS = `${EVENT_COLUMNS}, e.prev_hash, e.hash`;

export interface ChainRow extends EventRow {
  prev_hash: Buffer | null;
  hash: Buffer | null;
}

/** The row as the chain's verifier reads it: an unreadable one is a link marked `unreadable`, not an error. */
export function toChainLink(row: ChainRow): ChainLink {
  try {
    return { event: asStoredEvent(row), prevHash: row.prev_hash, hash: row.hash };
  } catch (e) {
    if (!(e instanceof UnreadableEventError)) throw e;
    const event = envelopeOf(row, null, []);
    return { event, prevHash: row.prev_hash, hash: row.hash, unreadable: `its ${e.column} is not JSON` };
  }
}

export interface IdempotencyRow {
  scope: string;
  key: string;
  request_hash: string;
  created_at: string;
  response: string | null;
}

export const IDEMPOTENCY_COLUMNS = 'scope, key, request_hash, created_at, response';

export function toIdempotencyRecord(row: IdempotencyRow): IdempotencyRecord {
  const record: IdempotencyRecord = {
    scope: row.scope,
    key: row.key,
    requestHash: row.request_hash,
    createdAt: row.created_at,
  };
  if (row.response !== null) record.response = JSON.parse(row.response) as IdempotencyRecord['response'];
  return record;
}
