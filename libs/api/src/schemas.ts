import { Type } from '@sinclair/typebox';
import { describedPattern, NO_NUL_PATTERN, storedJsonValueRef, type JsonSchema } from '@arbor/http';
import {
  READABLE_ID,
  BUILT_IN_ROLE_IDS,
  EVENT_AUDIT_SCHEMA,
  ORG_DESCRIPTION_MAX,
  ORG_NAME_MAX,
  PERMISSIONS,
  type Permission,
  type RoleId,
} from '@arbor/domain';

/**
 * Shared JSON Schemas (2020-12): they validate requests and responses and make up the OpenAPI document. A
 * schema with a `title` is a named type of the document (`components.schemas[title]`, see SchemaNames):
 * every resource and every request body has one. What a request takes is written with TypeBox (its JSON
 * Schema is the same document; its TypeScript type is derived from it and types the route's handler, see
 * `defineRouteFor`); `Type.Unsafe` keeps a leaf's keywords exactly as the contract states them (an `enum`, a
 * type list) where TypeBox would spell them otherwise.
 */

const ID_RULES = {
  minLength: READABLE_ID.minLength,
  maxLength: READABLE_ID.maxLength,
  pattern: describedPattern(READABLE_ID.source, 'must be an id: letters, digits, _ and - only'),
};
export const idSchema = Type.String(ID_RULES);
/** An id with its own description (a filter, say). */
export const idSchemaWith = (description: string) => Type.String({ ...ID_RULES, description });

export const timestampSchema: JsonSchema = { type: 'string', format: 'date-time' };

/** Printable characters that are blank: the domain trims them (String.prototype.trim's set, minus controls). */
const BLANK = ' \\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000\\ufeff';
/** C0, DEL and C1 controls, which no name may hold (field-rules.ts, org-rules.ts). */
const CONTROLS = '\\u0000-\\u001f\\u007f-\\u009f';

/**
 * A display name as the domain accepts it (organization, user and client names): 1..`max` characters, no
 * control character, and not blank only (the domain trims names). The pattern is unambiguous (blanks, then
 * one non-blank, then anything printable), so it runs in linear time on any input.
 */
export const displayNameSchema = (max = 200, description?: string) =>
  Type.String({
    minLength: 1,
    maxLength: max,
    pattern: describedPattern(
      `^[${BLANK}]*[^${BLANK}${CONTROLS}][^${CONTROLS}]*$`,
      'must hold no control character and not be blank',
    ),
    ...(description === undefined ? {} : { description }),
  });

/** An email address (RFC 5321 length limit); `format: email` as ajv-formats checks it. */
export const emailSchema = Type.String({ format: 'email', minLength: 3, maxLength: 254 });

/** What the binder fills in for an absent `limit`. */
export const PAGE_LIMIT_DEFAULT = 50;

/** Page size and cursor of every list. `limit` is optional in the document and has a default, which the binder applies. */
export const pageQuery = {
  limit: Type.Optional(
    Type.Integer({ minimum: 1, maximum: 200, default: PAGE_LIMIT_DEFAULT, description: 'Page size (1..200).' }),
  ),
  cursor: Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 2048,
      pattern: describedPattern(
        '^[A-Za-z0-9_-]+(\\.[A-Za-z0-9_-]+)?$',
        'must be a cursor as a page gave it (its nextCursor)',
      ),
      description:
        'Opaque cursor: the `nextCursor` of a previous page (base64url, a keyset and its tag), valid only for the list and filters that issued it.',
    }),
  ),
};

/** A page of `item`s; named `<item title>Page` when the item is named. */
export const pageOf = (item: JsonSchema): JsonSchema => ({
  ...(typeof item.title === 'string' ? { title: `${item.title}Page` } : {}),
  type: 'object',
  additionalProperties: false,
  required: ['items', 'nextCursor'],
  properties: { items: { type: 'array', items: item }, nextCursor: { type: ['string', 'null'] } },
});

export const orgIdParams = Type.Object({ orgId: idSchema }, { additionalProperties: false });

export const orgSchema: JsonSchema = {
  title: 'Organization',
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

const orgName = displayNameSchema(ORG_NAME_MAX);
const orgParentId = Type.Union([idSchema, Type.Null()]);
const orgDescription = Type.Unsafe<string | null>({ type: ['string', 'null'], maxLength: ORG_DESCRIPTION_MAX });
/** Kept as sent, so the body rules hold inside it and the schema says so (StoredJsonValue); 4 KiB at most. */
const orgMetadata = Type.Unsafe<Record<string, unknown>>({
  type: 'object',
  propertyNames: { pattern: NO_NUL_PATTERN },
  additionalProperties: storedJsonValueRef,
  description:
    'Any JSON object of at most 4 KiB, kept exactly: numbers within ±(2^53 − 1), no U+0000 in strings or member names.',
});

export const createOrgBody = Type.Object(
  {
    name: orgName,
    parentId: Type.Optional(orgParentId),
    description: Type.Optional(orgDescription),
    metadata: Type.Optional(orgMetadata),
  },
  { title: 'CreateOrganizationRequest', additionalProperties: false },
);

export const replaceOrgBody = Type.Object(
  {
    name: orgName,
    parentId: orgParentId,
    description: Type.Optional(orgDescription),
    metadata: Type.Optional(orgMetadata),
  },
  { title: 'ReplaceOrganizationRequest', additionalProperties: false },
);

export const idempotencyKeyHeader: JsonSchema = {
  type: 'string',
  minLength: 1,
  maxLength: 255,
  description: 'Retries with the same key and body within 24 h return the first response and append nothing.',
};

export const eventSchema: JsonSchema = {
  title: 'Event',
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
    audit: { ...EVENT_AUDIT_SCHEMA, description: 'Platform admins only: the request and, for updates, the changes.' },
  },
};

/**
 * A role id (contract section 4): a built-in one (`member`, `admin`, `owner`) or a custom role's (`role_<ulid>`,
 * section 4.1). Whether it names a role visible where it is granted is the domain's to say (400).
 */
export const roleIdSchema = Type.Unsafe<RoleId>({
  type: 'string',
  pattern: describedPattern(
    `^(${BUILT_IN_ROLE_IDS.join('|')}|role_[0-9a-z]{1,64})$`,
    `must be a role id: ${BUILT_IN_ROLE_IDS.join(', ')}, or a custom role's (role_...)`,
  ),
  description: 'A role id: member, admin, owner, or a custom role (role_<ulid>).',
});

/** The most roles one membership may hold through the API. */
export const MEMBERSHIP_ROLES_MAX = 20;

/** A membership's roles: at least one, no repeats. */
export const rolesSchema = Type.Array(roleIdSchema, {
  minItems: 1,
  maxItems: MEMBERSHIP_ROLES_MAX,
  uniqueItems: true,
});

/** The most roles one client credential may hold (bounds its token claims too). */
export const CLIENT_ROLES_MAX = 20;

/** A client credential's roles: built-in or custom (`role_<ulid>`) ids, possibly none, no repeats. */
export const clientRolesSchema = Type.Array(roleIdSchema, { maxItems: CLIENT_ROLES_MAX, uniqueItems: true });

export const userSchema: JsonSchema = {
  title: 'User',
  type: 'object',
  additionalProperties: false,
  required: ['id', 'email', 'name', 'status', 'createdAt', 'updatedAt', 'version'],
  properties: {
    id: { type: 'string' },
    // No `format`: the address as stored, which may be the bootstrap admin's `admin@localhost`.
    email: { type: ['string', 'null'], description: 'The address as given; `null` once the user is erased.' },
    name: { type: ['string', 'null'] },
    status: { enum: ['active', 'disabled', 'erased'] },
    createdAt: timestampSchema,
    updatedAt: timestampSchema,
    version: { type: 'integer', minimum: 1 },
  },
};

export const orgUserSchema: JsonSchema = {
  title: 'OrgUser',
  type: 'object',
  additionalProperties: false,
  required: ['orgId', 'userId', 'email', 'name', 'status', 'roles', 'addedAt', 'version'],
  properties: {
    orgId: { type: 'string' },
    userId: { type: 'string' },
    // No `format`: the address as stored, which may be the bootstrap admin's `admin@localhost`.
    email: { type: ['string', 'null'], description: 'The address as given; `null` once the user is erased.' },
    name: { type: ['string', 'null'] },
    status: { enum: ['active', 'disabled', 'erased'] },
    roles: rolesSchema,
    addedAt: timestampSchema,
    version: { type: 'integer', minimum: 1 },
  },
};

export const userMembershipSchema: JsonSchema = {
  title: 'UserMembership',
  type: 'object',
  additionalProperties: false,
  required: ['orgId', 'orgName', 'roles', 'addedAt', 'pending'],
  properties: {
    orgId: { type: 'string' },
    orgName: { type: 'string' },
    roles: rolesSchema,
    addedAt: timestampSchema,
    pending: {
      type: 'boolean',
      description:
        'Only in a user’s own list: a membership that awaits a platform admin’s confirmation and grants nothing yet.',
    },
  },
};

export const clientSchema: JsonSchema = {
  title: 'ClientCredential',
  type: 'object',
  additionalProperties: false,
  required: ['id', 'clientId', 'name', 'orgId', 'scopes', 'roles', 'rolesGrantedBy', 'createdAt', 'version'],
  properties: {
    id: { type: 'string' },
    clientId: { type: 'string' },
    name: { type: 'string' },
    orgId: { type: 'string' },
    scopes: { type: 'array', items: { type: 'string' } },
    roles: {
      type: 'array',
      items: { type: 'string' },
      description:
        "Role ids held on `orgId` (a subtree-reach role applies to its subtree). On Arbor's own API the client acts with its scopes only; in access decisions and token claims its permissions are its scopes plus what these roles grant.",
    },
    rolesGrantedBy: {
      description: 'The event that last set `roles` (its id and log position); null while the client holds none.',
      oneOf: [
        {
          type: 'object',
          additionalProperties: false,
          required: ['eventId', 'position'],
          properties: { eventId: { type: 'string' }, position: { type: 'integer', minimum: 1 } },
        },
        { type: 'null' },
      ],
    },
    createdAt: timestampSchema,
    version: {
      type: 'integer',
      minimum: 1,
      description: 'Its own changes, from 1 (issue, then each change of its roles).',
    },
    clientSecret: { type: 'string', description: 'Only in the creation response; never shown again.' },
  },
};

/**
 * A client credential's scopes: built-in permissions, no repeats; empty only for a credential issued with roles
 * (the domain's rule: at least one scope or one role, 400 naming `/scopes`).
 */
export const scopesSchema = Type.Array(Type.Unsafe<Permission>({ enum: [...PERMISSIONS] }), {
  uniqueItems: true,
  description: 'Built-in permissions; may be empty when `roles` names at least one role.',
});

/**
 * OpenAPI links from a response to the operations its values address (`$response.body#/id` and the like),
 * so that readers, and schemathesis' stateful phase, follow a created resource to its other operations.
 */
export const linksTo = (operationIds: string[], parameters: Record<string, string>) =>
  Object.fromEntries(operationIds.map((operationId) => [operationId, { operationId, parameters }]));
