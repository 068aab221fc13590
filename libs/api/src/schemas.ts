import type { JsonSchema } from '@arbor/http';
import { ORG_DESCRIPTION_MAX, ORG_NAME_MAX, PERMISSIONS } from '@arbor/domain';

/** Shared JSON Schemas (2020-12): they validate requests and responses and make up the OpenAPI document. */

export const idSchema: JsonSchema = { type: 'string', minLength: 1, maxLength: 100, pattern: '^[A-Za-z0-9_-]+$' };

export const timestampSchema: JsonSchema = { type: 'string', format: 'date-time' };

export const pageQuery = {
  limit: { type: 'integer', minimum: 1, maximum: 200, default: 50, description: 'Page size (1..200).' },
  cursor: { type: 'string', minLength: 1, maxLength: 1024, description: 'Opaque cursor from a previous page.' },
} satisfies Record<string, JsonSchema>;

export const pageOf = (item: JsonSchema): JsonSchema => ({
  type: 'object',
  additionalProperties: false,
  required: ['items', 'nextCursor'],
  properties: { items: { type: 'array', items: item }, nextCursor: { type: ['string', 'null'] } },
});

export const orgIdParams: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['orgId'],
  properties: { orgId: idSchema },
};

export const orgSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'name', 'parentId', 'description', 'metadata', 'depth', 'createdAt', 'updatedAt', 'version'],
  properties: {
    id: { type: 'string' },
    name: { type: 'string' },
    parentId: { type: ['string', 'null'] },
    description: { type: ['string', 'null'] },
    metadata: { type: 'object' },
    depth: { type: 'integer', minimum: 0, maximum: 63 },
    createdAt: timestampSchema,
    updatedAt: timestampSchema,
    version: { type: 'integer', minimum: 1 },
  },
};

const orgWritable = {
  name: { type: 'string', minLength: 1, maxLength: ORG_NAME_MAX },
  parentId: { anyOf: [idSchema, { type: 'null' }] },
  description: { type: ['string', 'null'], maxLength: ORG_DESCRIPTION_MAX },
  metadata: { type: 'object', description: 'Any JSON object of at most 4 KiB.' },
} satisfies Record<string, JsonSchema>;

export const createOrgBody: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['name'],
  properties: orgWritable,
};

export const replaceOrgBody: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'parentId'],
  properties: orgWritable,
};

export const idempotencyKeyHeader: JsonSchema = {
  type: 'string',
  minLength: 1,
  maxLength: 255,
  description: 'Retries with the same key and body within 24 h return the first response and append nothing.',
};

export const eventSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'type', 'streamId', 'streamVersion', 'position', 'occurredAt', 'actor', 'data'],
  properties: {
    id: { type: 'string' },
    type: { type: 'string' },
    streamId: { type: 'string' },
    streamVersion: { type: 'integer', minimum: 1 },
    position: { type: 'integer', minimum: 1 },
    occurredAt: timestampSchema,
    actor: {
      type: 'object',
      additionalProperties: false,
      required: ['type', 'id'],
      properties: { type: { enum: ['user', 'client', 'system'] }, id: { type: 'string' } },
    },
    data: { type: 'object' },
  },
};

export const rolesSchema: JsonSchema = {
  type: 'array',
  minItems: 1,
  maxItems: 3,
  uniqueItems: true,
  items: { enum: ['member', 'admin', 'owner'] },
};

export const userSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'email', 'name', 'status', 'createdAt', 'updatedAt', 'version'],
  properties: {
    id: { type: 'string' },
    email: { type: ['string', 'null'] },
    name: { type: ['string', 'null'] },
    status: { enum: ['active', 'disabled', 'erased'] },
    createdAt: timestampSchema,
    updatedAt: timestampSchema,
    version: { type: 'integer', minimum: 1 },
  },
};

export const orgUserSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['orgId', 'userId', 'email', 'name', 'status', 'roles', 'addedAt', 'version'],
  properties: {
    orgId: { type: 'string' },
    userId: { type: 'string' },
    email: { type: ['string', 'null'] },
    name: { type: ['string', 'null'] },
    status: { enum: ['active', 'disabled', 'erased'] },
    roles: rolesSchema,
    addedAt: timestampSchema,
    version: { type: 'integer', minimum: 1 },
  },
};

export const userMembershipSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['orgId', 'orgName', 'roles', 'addedAt', 'pending'],
  properties: {
    orgId: { type: 'string' },
    orgName: { type: 'string' },
    roles: rolesSchema,
    addedAt: timestampSchema,
    pending: { type: 'boolean', description: 'Only in a user’s own list: a membership that awaits a platform admin’s confirmation and grants nothing yet.' },
  },
};

export const clientSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'clientId', 'name', 'orgId', 'scopes', 'createdAt', 'version'],
  properties: {
    id: { type: 'string' },
    clientId: { type: 'string' },
    name: { type: 'string' },
    orgId: { type: 'string' },
    scopes: { type: 'array', items: { type: 'string' } },
    createdAt: timestampSchema,
    version: { type: 'integer', minimum: 1, description: 'Its own changes, from 1 (a client credential is not changed once issued).' },
    clientSecret: { type: 'string', description: 'Only in the creation response; never shown again.' },
  },
};

export const scopesSchema: JsonSchema = {
  type: 'array',
  minItems: 1,
  uniqueItems: true,
  items: { enum: [...PERMISSIONS] },
};
