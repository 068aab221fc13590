import type { Actor, StoredEvent } from '@arbor/domain';
import type { IHeaders, Message } from 'kafkajs';

/** The topic committed events travel on, unless configured otherwise. */
export const DEFAULT_EVENTS_TOPIC = 'iam.events.v1';

/** The event's `orgPath` (root first, JSON array): not part of the public envelope, so carried beside it. */
export const ORG_PATH_HEADER = 'x-arbor-org-path';

/**
 * The message key: the root organization of the tree the event is about, so that all events of one tree
 * land on one partition and keep their log order; for an event about no organization, its stream.
 */
export function eventMessageKey(event: StoredEvent): string {
  return event.orgPath.length > 0 ? event.orgPath[0] : event.streamId;
}

/**
 * A stored event as a Kafka message: the value is the public event envelope (contract section 8) as JSON,
 * exactly the fields the event API serves, so other services can consume the topic without knowing our
 * internals; `orgPath` rides in a header.
 */
export function encodeEventMessage(event: StoredEvent): Message & { key: string; value: string; headers: IHeaders } {
  const envelope = {
    id: event.id,
    type: event.type,
    streamId: event.streamId,
    streamVersion: event.streamVersion,
    position: event.position,
    occurredAt: event.occurredAt,
    actor: event.actor,
    data: event.data,
  };
  return {
    key: eventMessageKey(event),
    value: JSON.stringify(envelope),
    headers: { [ORG_PATH_HEADER]: JSON.stringify(event.orgPath) },
  };
}

const isString = (v: unknown): v is string => typeof v === 'string';
const isPositiveInteger = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v > 0;

function headerText(headers: IHeaders | undefined, name: string): string | undefined {
  const raw = headers?.[name];
  const value = Array.isArray(raw) ? raw[raw.length - 1] : raw;
  if (value === undefined) return undefined;
  return Buffer.isBuffer(value) ? value.toString('utf8') : value;
}

/** The inverse of `encodeEventMessage`. Throws on a message that is not an event envelope. */
export function decodeEventMessage(message: { value: Buffer | string | null; headers?: IHeaders }): StoredEvent {
  if (message.value === null) throw new Error('Kafka event message without a value.');
  const text = Buffer.isBuffer(message.value) ? message.value.toString('utf8') : message.value;
  const parsed: unknown = JSON.parse(text);
  if (typeof parsed !== 'object' || parsed === null) throw new Error('Kafka event message is not an event envelope.');
  const e = parsed as Record<string, unknown>;
  const actor = e.actor as Partial<Actor> | undefined;
  if (
    !isString(e.id) ||
    !isString(e.type) ||
    !isString(e.streamId) ||
    !isPositiveInteger(e.streamVersion) ||
    !isPositiveInteger(e.position) ||
    !isString(e.occurredAt) ||
    typeof actor !== 'object' ||
    actor === null ||
    !isString(actor.type) ||
    !isString(actor.id) ||
    !('data' in e)
  ) {
    throw new Error('Kafka event message is not an event envelope.');
  }
  const orgPathText = headerText(message.headers, ORG_PATH_HEADER);
  const orgPath: unknown = orgPathText === undefined ? [] : JSON.parse(orgPathText);
  if (!Array.isArray(orgPath) || !orgPath.every(isString)) {
    throw new Error(`Kafka event message has a malformed ${ORG_PATH_HEADER} header.`);
  }
  return {
    id: e.id,
    type: e.type,
    streamId: e.streamId,
    streamVersion: e.streamVersion,
    position: e.position,
    occurredAt: e.occurredAt,
    actor: actor as Actor,
    data: e.data,
    orgPath,
  };
}
