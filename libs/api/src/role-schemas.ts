import { Type } from '@sinclair/typebox';
import { RESERVED_PERMISSION_PREFIXES } from '@arbor/domain';
import { describedPattern, type JsonSchema } from '@arbor/http';
import { displayNameSchema, idSchema } from './schemas';

/**
 * The schemas of custom roles and application permissions (issue 13, contract section 4.1): the
 * representations `/api/v1/orgs/{orgId}/roles` and `/api/v1/orgs/{orgId}/permissions` send, and the bodies they
 * take. The domain (role-decisions.ts) is the authority on every rule; these are its shape, so that a malformed
 * request is a 400 before anything is decided, and the OpenAPI document says what the server takes.
 */

/** A description of a role or application permission (the domain's limit: 1000 characters). */
export const DEFINITION_DESCRIPTION_MAX = 1000;

/** The most permissions one role may grant through this API (a token for one organization carries at most 100). */
export const ROLE_PERMISSIONS_MAX = 100;

/**
 * A permission name: a built-in one (`orgs:read`) or an application permission (`billing:invoices:approve`),
 * 2 to 5 segments of `[a-z0-9][a-z0-9_-]{0,39}` joined by `:`. Whether the first segment is reserved, and
 * whether the name is defined where it is used, is the domain's to say (400 naming the field).
 */
export const PERMISSION_NAME_PATTERN = describedPattern(
  '^[a-z0-9][a-z0-9_-]{0,39}(:[a-z0-9][a-z0-9_-]{0,39}){1,4}$',
  'must be a permission name: 2 to 5 segments joined by colons, each of 1 to 40 lowercase letters, digits, _ or - (e.g. billing:invoices:approve)',
);

export const permissionNameSchema = Type.String({
  minLength: 3,
  maxLength: 204,
  pattern: PERMISSION_NAME_PATTERN,
  description: 'A built-in permission or an application permission, e.g. `billing:invoices:approve`.',
});

const appliesToSchema = Type.Unsafe<'subtree' | 'organization'>({
  enum: ['subtree', 'organization'],
  description:
    '`subtree`: the role applies to the organization it is held on and everything below; `organization`: to that organization only.',
});

const descriptionSchema = Type.String({ maxLength: DEFINITION_DESCRIPTION_MAX });

const rolePermissionsSchema = Type.Array(permissionNameSchema, {
  maxItems: ROLE_PERMISSIONS_MAX,
  uniqueItems: true,
  description:
    'Built-in permissions and application permissions visible at the defining organization; the caller must hold every one there.',
});

export const defineRoleBody = Type.Object(
  {
    name: displayNameSchema(
      200,
      'Unique among the roles of the defining organization (caseless); not a built-in name.',
    ),
    description: Type.Optional(descriptionSchema),
    permissions: rolePermissionsSchema,
    appliesTo: Type.Optional(appliesToSchema),
  },
  { title: 'DefineRoleRequest', additionalProperties: false },
);

export const updateRoleBody = Type.Object(
  {
    name: Type.Optional(displayNameSchema(200)),
    description: Type.Optional(descriptionSchema),
    permissions: Type.Optional(rolePermissionsSchema),
    appliesTo: Type.Optional(appliesToSchema),
  },
  { title: 'UpdateRoleRequest', additionalProperties: false, minProperties: 1 },
);

/**
 * An application permission's name as defined (POST .../permissions): the permission name pattern, and the first
 * segment not one of Arbor's reserved prefixes (design13; the domain checks it again and names the field), so
 * the document says what the server accepts. ECMA-262 lookahead, which JSON Schema `pattern` uses.
 */
export const APPLICATION_PERMISSION_NAME_PATTERN = describedPattern(
  `^(?!(?:${RESERVED_PERMISSION_PREFIXES.join('|')}):)` + PERMISSION_NAME_PATTERN.slice(1),
  `must be a permission name (2 to 5 segments joined by colons, each of 1 to 40 lowercase letters, digits, _ or -, e.g. billing:invoices:approve) whose first segment is not one of Arbor's own (${RESERVED_PERMISSION_PREFIXES.join(', ')})`,
);

const applicationPermissionNameSchema = Type.String({
  minLength: 3,
  maxLength: 204,
  pattern: APPLICATION_PERMISSION_NAME_PATTERN,
  description:
    'E.g. `billing:invoices:approve`: 2 to 5 segments, the first not a reserved prefix (orgs, users, clients, events, roles, tokens, access).',
});

export const definePermissionBody = Type.Object(
  { name: applicationPermissionNameSchema, description: Type.Optional(descriptionSchema) },
  { title: 'DefinePermissionRequest', additionalProperties: false },
);

export const updatePermissionBody = Type.Object(
  { description: descriptionSchema },
  { title: 'UpdatePermissionRequest', additionalProperties: false },
);

export const roleParams = Type.Object({ orgId: idSchema, roleId: idSchema }, { additionalProperties: false });
export const permissionParams = Type.Object(
  { orgId: idSchema, name: permissionNameSchema },
  { additionalProperties: false },
);

const nullableTimestamp: JsonSchema = { type: ['string', 'null'], format: 'date-time' };

/** Where a definition comes from, as seen from the organization in the path (both representations). */
const provenance = {
  builtIn: { type: 'boolean', description: 'Defined by Arbor (no organization); never changes.' },
  definedOn: {
    type: ['string', 'null'],
    description: 'The defining organization: the definition is usable there and below. `null` for a built-in.',
  },
  inherited: {
    type: 'boolean',
    description:
      'Not defined on the organization in the path: defined on an ancestor, or built in. Change it where it is defined.',
  },
  createdAt: nullableTimestamp,
  updatedAt: nullableTimestamp,
  version: {
    type: ['integer', 'null'],
    minimum: 1,
    description: "The definition's own changes, from 1 (what If-Match compares); `null` for a built-in.",
  },
};
const PROVENANCE_REQUIRED = ['builtIn', 'definedOn', 'inherited', 'createdAt', 'updatedAt', 'version'];

export const roleSchema: JsonSchema = {
  title: 'Role',
  type: 'object',
  additionalProperties: false,
  required: ['id', 'name', 'description', 'permissions', 'appliesTo', ...PROVENANCE_REQUIRED],
  properties: {
    id: { type: 'string', description: '`role_<ulid>`, or `member`, `admin`, `owner` for the built-in roles.' },
    name: { type: 'string' },
    description: { type: 'string' },
    permissions: { type: 'array', items: { type: 'string' } },
    appliesTo: { enum: ['subtree', 'organization'] },
    ...provenance,
  },
};

export const permissionSchema: JsonSchema = {
  title: 'PermissionDefinition',
  type: 'object',
  additionalProperties: false,
  required: ['name', 'description', ...PROVENANCE_REQUIRED],
  properties: { name: { type: 'string' }, description: { type: 'string' }, ...provenance },
};

/** A whole list: definitions are few per organization, so these lists are not paged. */
const listOf = (item: JsonSchema, title: string): JsonSchema => ({
  title,
  type: 'object',
  additionalProperties: false,
  required: ['items'],
  properties: { items: { type: 'array', items: item } },
});

export const roleListSchema = listOf(roleSchema, 'RoleList');
export const permissionListSchema = listOf(permissionSchema, 'PermissionDefinitionList');
