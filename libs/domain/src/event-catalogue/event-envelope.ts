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
