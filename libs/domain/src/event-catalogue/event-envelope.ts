import type { StoredEvent } from '../events';
import type { JsonSchema } from './catalogue-entry';
import { EVENT_SCHEMA_BASE, eventSchemaId } from './catalogue-entry';

/**
 * The `$id` of the envelope schema of `type` at data version `version`: the whole event as the event API serves
 * it and the Kafka topic carries it (contract section 8), its `data` that version's schema (`eventSchemaId`).
 */
export const eventEnvelopeSchemaId = (type: string, version: number): string =>
  `${EVENT_SCHEMA_BASE}/${type}/v${version}.envelope.json`;

/**
 * The JSON Schema (draft 2020-12) of one event type's envelope `{id, type, streamId, streamVersion, position,
 * occurredAt, actor, data}`: `type` is that type, `data` refers to the data schema by its `$id`, so a validator
 * needs both (the event API's `GET /api/v1/events/schemas` and docs/events/schemas serve them together).
 * Closed like the data schemas: a member added to the envelope is a new envelope version.
 * `position` and `streamVersion` are whole numbers from 1; `occurredAt` an RFC 3339 UTC instant.
 */
export function eventEnvelopeSchema(type: string, version: number): JsonSchema {
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: eventEnvelopeSchemaId(type, version),
    title: `${type} event, data version ${version}`,
    type: 'object',
    required: ['id', 'type', 'streamId', 'streamVersion', 'position', 'occurredAt', 'actor', 'data'],
    additionalProperties: false,
    properties: {
      id: { type: 'string', minLength: 1 },
      type: { const: type },
      streamId: { type: 'string', minLength: 1 },
      streamVersion: { type: 'integer', minimum: 1 },
      position: { type: 'integer', minimum: 1 },
      occurredAt: { type: 'string', format: 'date-time' },
      actor: {
        type: 'object',
        required: ['type', 'id'],
        additionalProperties: false,
        properties: { type: { enum: ['user', 'client', 'system'] }, id: { type: 'string', minLength: 1 } },
      },
      data: { $ref: eventSchemaId(type, version) },
    },
  };
}

/**
 * The CloudEvents 1.0 `type` of an Arbor event type (`OrgCreated` → `dev.arbor.iam.OrgCreated`): reverse-DNS
 * prefixed, as the specification recommends. The Kafka topic's `ce_type` header and the event schemas list say it.
 */
export const cloudEventTypeOf = (type: string): string => `dev.arbor.iam.${type}`;

/** The `$id` of the audited envelope of `type` at data version `version` (see `eventAuditedEnvelopeSchema`). */
export const eventAuditedEnvelopeSchemaId = (type: string, version: number): string =>
  `${EVENT_SCHEMA_BASE}/${type}/v${version}.audited.json`;

const erased = {
  type: 'object',
  required: ['erased'],
  additionalProperties: false,
  properties: { erased: { const: true } },
};

/**
 * The schema of `audit` (issue 14, complete audit data), which the event API adds beside the envelope's members for
 * platform admins: `request`, what the request that caused the event told of itself and its caller (opened; `erased`
 * when it was sealed for a user since erased, `dropped` when retention removed it; absent on events no request
 * caused and on those written before it was recorded), and `changes`, for an update, every field it changed with
 * its value before and after (personal fields opened, or `erased`).
 */
export const EVENT_AUDIT_SCHEMA: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    request: {
      oneOf: [
        {
          type: 'object',
          required: ['requestId'],
          additionalProperties: false,
          properties: {
            requestId: { type: 'string', minLength: 1, maxLength: 200 },
            sourceAddress: { type: 'string' },
            userAgent: { type: 'string', maxLength: 500 },
            token: {
              type: 'object',
              required: ['jti', 'sub'],
              additionalProperties: false,
              properties: {
                jti: { type: 'string' },
                sub: { type: 'string' },
                clientId: { type: 'string' },
                sid: { type: 'string' },
              },
            },
          },
        },
        erased,
        {
          type: 'object',
          required: ['dropped'],
          additionalProperties: false,
          properties: { dropped: { const: true } },
        },
      ],
    },
    changes: {
      oneOf: [
        {
          type: 'array',
          items: {
            type: 'object',
            required: ['field', 'before', 'after'],
            additionalProperties: false,
            properties: { field: { type: 'string' }, before: {}, after: {} },
          },
        },
        erased,
      ],
    },
  },
};

/**
 * The JSON Schema of an event as the event API serves it to platform admins: the envelope (`eventEnvelopeSchema`,
 * unchanged: the Kafka topic and tenant clients get exactly that) and an optional `audit` member
 * (`EVENT_AUDIT_SCHEMA`). A schema of its own rather than a member added to the closed envelope, so that no
 * subscriber validating the topic against the envelope sees a change.
 */
export function eventAuditedEnvelopeSchema(type: string, version: number): JsonSchema {
  const envelope = eventEnvelopeSchema(type, version);
  return {
    ...envelope,
    $id: eventAuditedEnvelopeSchemaId(type, version),
    title: `${type} event with its audit data, data version ${version}`,
    properties: { ...(envelope.properties as Record<string, JsonSchema>), audit: EVENT_AUDIT_SCHEMA },
  };
}

/** The public envelope of an event (contract section 8): what the event API, the Kafka topic and webhooks carry. */
export interface PublicEventEnvelope {
  id: string;
  type: string;
  streamId: string;
  streamVersion: number;
  position: number;
  occurredAt: string;
  actor: StoredEvent['actor'];
  data: unknown;
}

/**
 * A stored event's public envelope (`eventEnvelopeSchema`): exactly these members, in this order, so that its
 * JSON is the same wherever it is sent; `orgPath` and the request metadata stay behind.
 */
export const publicEventEnvelope = (event: StoredEvent): PublicEventEnvelope => ({
  id: event.id,
  type: event.type,
  streamId: event.streamId,
  streamVersion: event.streamVersion,
  position: event.position,
  occurredAt: event.occurredAt,
  actor: event.actor,
  data: event.data,
});
