import type { ChainLink, IdempotencyRecord } from '@arbor/application';
import { upcastStoredEvent, type Actor, type StoredEvent } from '@arbor/domain';

/** The columns every event read selects, in the shape `toStoredEvent` expects. */
export const EVENT_COLUMNS =
  'e.position, e.id, e.stream_id, e.stream_version, e.type, e.occurred_at, e.actor_type, e.actor_id, e.data, e.org_path';

/** As node-postgres returns it: int8 as a string, timestamptz as a Date, jsonb parsed. */
export interface EventRow {
  position: string;
  id: string;
  stream_id: string;
  stream_version: number;
  type: string;
  occurred_at: Date;
  actor_type: Actor['type'];
  actor_id: string;
  data: unknown;
  org_path: string[];
}

/**
 * The event a row holds, its `data` upcast to the current schema version (the event catalogue's): every
 * read of the log goes through here, so nothing above the store sees an older shape. The table keeps no
 * schema version: every row is version 1 (see `upcastStoredEvent`).
 */
export const toStoredEvent = (row: EventRow): StoredEvent => upcastStoredEvent(asStoredEvent(row));

/** The event exactly as stored: no upcast (what the hash chain covers). */
export const asStoredEvent = (row: EventRow): StoredEvent => ({
  id: row.id,
  type: row.type,
  streamId: row.stream_id,
  streamVersion: row.stream_version,
  position: Number(row.position),
  occurredAt: row.occurred_at.toISOString(),
  actor: { type: row.actor_type, id: row.actor_id },
  data: row.data,
  orgPath: row.org_path,
});

/** The chain's columns after the event's (see `ChainLink`). */
export const CHAIN_COLUMNS = `${EVENT_COLUMNS}, e.prev_hash, e.hash`;

export interface ChainRow extends EventRow {
  prev_hash: Buffer | null;
  hash: Buffer | null;
}

export const toChainLink = (row: ChainRow): ChainLink => ({
  event: asStoredEvent(row),
  prevHash: row.prev_hash,
  hash: row.hash,
});

export interface IdempotencyRow {
  scope: string;
  key: string;
  request_hash: string;
  created_at: string;
  response: IdempotencyRecord['response'] | null;
}

export const IDEMPOTENCY_COLUMNS = 'scope, key, request_hash, created_at, response';

export function toIdempotencyRecord(row: IdempotencyRow): IdempotencyRecord {
  const record: IdempotencyRecord = {
    scope: row.scope,
    key: row.key,
    requestHash: row.request_hash,
    createdAt: row.created_at,
  };
  if (row.response !== null) record.response = row.response;
  return record;
}
