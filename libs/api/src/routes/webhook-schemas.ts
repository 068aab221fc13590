import type { JsonSchema } from '@arbor/http';
import { timestampSchema } from '../schemas';

/** A webhook subscription as the API shows it (contract section 10); `secret` only in the creation response. */
export const webhookSchema: JsonSchema = {
  title: 'WebhookSubscription',
  type: 'object',
  additionalProperties: false,
  required: [
    'id',
    'orgId',
    'url',
    'eventTypes',
    'description',
    'enabled',
    'disabledReason',
    'createdPosition',
    'replay',
    'createdAt',
    'updatedAt',
    'version',
  ],
  properties: {
    id: { type: 'string', description: '`whk_...`.' },
    orgId: { type: 'string', description: 'Events of this organization and everything below it are delivered.' },
    url: { type: 'string' },
    eventTypes: { type: 'array', items: { type: 'string' }, description: 'Empty: every type.' },
    description: { type: 'string' },
    enabled: { type: 'boolean' },
    disabledReason: {
      type: ['string', 'null'],
      description: 'Why deliveries are off (by its owner, or after repeated failures); null while enabled.',
    },
    createdPosition: {
      type: 'integer',
      minimum: 1,
      description: 'The log position of its creation: deliveries begin after it.',
    },
    replay: {
      description: 'The latest replay asked for, or null.',
      oneOf: [
        {
          type: 'object',
          additionalProperties: false,
          required: ['fromPosition', 'requestedPosition'],
          properties: {
            fromPosition: { type: 'integer', minimum: 1 },
            requestedPosition: { type: 'integer', minimum: 1 },
          },
        },
        { type: 'null' },
      ],
    },
    createdAt: timestampSchema,
    updatedAt: timestampSchema,
    version: { type: 'integer', minimum: 1 },
    secret: { type: 'string', description: 'Only in the creation response: `whsec_` + base64; never shown again.' },
  },
};

/** The answer of a rotation: the new secret, shown once, and until when the previous one still signs. */
export const webhookSecretSchema: JsonSchema = {
  title: 'WebhookSecretRotation',
  type: 'object',
  additionalProperties: false,
  required: ['id', 'previousSecretExpiresAt'],
  properties: {
    id: { type: 'string' },
    secret: {
      type: 'string',
      description:
        '`whsec_` + base64 of 32 bytes; absent from a replay (`Idempotent-Replayed`), as it is kept nowhere.',
    },
    previousSecretExpiresAt: timestampSchema,
  },
};
