import {
  EVENT_CATALOGUE,
  cloudEventTypeOf,
  eventEnvelopeSchemaId,
  isKnownEventType,
  publicEventEnvelope,
  type Actor,
  type StoredEvent,
} from '@arbor/domain';
import type { IHeaders, Message } from 'kafkajs';

/** The topic committed events travel on, unless configured otherwise. */
export const DEFAULT_EVENTS_TOPIC = 'iam.events.v1';

/** The event's `orgPath` (root first, JSON array): not part of the public envelope, so carried beside it. */
export const ORG_PATH_HEADER = 'x-arbor-org-path';

/** The CloudEvents `source` of events whose publisher names none (its issuer URL is the usual one). */
export const DEFAULT_CLOUDEVENTS_SOURCE = 'urn:arbor:iam';

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
 *
 * The message is also a CloudEvent 1.0 in the Kafka protocol binding's binary content mode: its attributes are
 * `ce_` headers (`specversion` 1.0, `id` the event id, `source` the publisher's, `type` `dev.arbor.iam.<type>`,
 * `time` occurredAt, `subject` the stream, `dataschema` the envelope schema's `$id` for known types) and
 * `content-type` is the data's media type; the CloudEvent's data is the message value, the envelope. So a
 * CloudEvents SDK reads the topic as it is, and a consumer of the envelope notices nothing.
 */
export function encodeEventMessage(
  event: StoredEvent,
  source: string = DEFAULT_CLOUDEVENTS_SOURCE,
): Message & { key: string; value: string; headers: IHeaders } {
  const envelope = publicEventEnvelope(event);
  const headers: IHeaders = {
    [ORG_PATH_HEADER]: JSON.stringify(event.orgPath),
    ce_specversion: '1.0',
    ce_id: event.id,
    ce_source: source,
    ce_type: cloudEventTypeOf(event.type),
    ce_time: event.occurredAt,
    ce_subject: event.streamId,
    'content-type': 'application/json',
  };
  // An event of a type this code does not know (written by newer code) is passed on without a schema.
  if (isKnownEventType(event.type))
    headers.ce_dataschema = eventEnvelopeSchemaId(event.type, EVENT_CATALOGUE[event.type].version);
  return { key: eventMessageKey(event), value: JSON.stringify(envelope), headers };
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
