import type { Principal } from '@arbor/application';
import { defineRouteFor, problemResponse, type HandlerRequest, type RouteDefinition } from '@arbor/http';
import type { ApiContext } from '../api-context';
import {
  conditionalReadHeaders,
  conditionalWriteHeaders,
  etagHeader,
  notModifiedResponse,
  preconditionFailedResponse,
  preconditionOf,
} from '../preconditions';
import {
  definePermissionBody,
  permissionListSchema,
  permissionParams,
  permissionSchema,
  updatePermissionBody,
} from '../role-schemas';
import {
  builtInPermissions,
  definitionResult,
  permissionNotFound,
  permissionVisibleAt,
  presentPermission,
  requireReachesDefiningOrg,
  requireSeesOrg,
} from '../role-views';
import { idempotencyKeyHeader, linksTo, orgIdParams } from '../schemas';
import { executeWrite } from '../write-flow';

/**
 * Application permissions (issue 13, contract section 4.1): `/api/v1/orgs/{orgId}/permissions`, keyed by name.
 * A permission defined on an ancestor is the same resource under every organization where it is visible; its
 * changes are the defining organization's (roles:write there, decided by the command side).
 */

const defineApiRoute = defineRouteFor<ApiContext>();
const tags = ['Roles and permissions'];
const errors = {
  400: problemResponse('Invalid input: a malformed name (or one with a reserved prefix) or description.'),
  401: problemResponse('Missing or invalid access token.'),
  403: problemResponse('The caller may see the organization but not do this (roles:write on the defining one).'),
  404: problemResponse('No such organization or application permission visible here, or not visible to the caller.'),
};
const principalOf = (auth: unknown): Principal => auth as Principal;
const location = (orgId: string, name: string) => `/api/v1/orgs/${orgId}/permissions/${name}`;

async function mustReadPermission(ctx: ApiContext, definedOn: string, name: string, atOrgId: string) {
  const permission = await ctx.readModels.roles.permission(definedOn, name);
  if (!permission) throw new Error(`Permission ${name} vanished after a confirmed write`);
  return definitionResult(permission.version, presentPermission(permission, atOrgId));
}

/**
 * The application permission a write addresses at `/orgs/{orgId}/permissions/{name}` (404 unless the caller may
 * see `orgId` and the permission is visible there): its defining organization, and the command's `If-Match`
 * precondition against its representation there.
 */
async function writeTarget(req: HandlerRequest, ctx: ApiContext, orgId: string, name: string) {
  await requireSeesOrg(ctx, principalOf(req.auth), orgId);
  const found = await permissionVisibleAt(ctx, orgId, name);
  if (!found) throw permissionNotFound(name);
  await requireReachesDefiningOrg(ctx, principalOf(req.auth), orgId, found.orgId);
  const precondition = await preconditionOf(
    req,
    async () => {
      const current = await ctx.readModels.roles.permission(found.orgId, name);
      return (
        current && {
          version: current.version,
          body: presentPermission(current, orgId),
          expected: { expectedVersion: current.version },
        }
      );
    },
    `Permission ${name} does not exist.`,
  );
  return { definedOn: found.orgId, precondition };
}

export const permissionRoutes: RouteDefinition<ApiContext>[] = [
  defineApiRoute({
    operationId: 'listPermissions',
    method: 'get',
    path: '/orgs/{orgId}/permissions',
    summary:
      'The permissions roles may grant on an organization: the built-in ones, then application permissions defined on it or above it (root first).',
    description:
      '`builtIn` marks Arbor’s own; `inherited` those not defined on this organization; `definedOn` the defining organization. Not paged.',
    tags,
    auth: 'bearer',
    permission: 'roles:read',
    request: { params: orgIdParams },
    responses: { 200: { description: 'The permissions visible here.', schema: permissionListSchema }, ...errors },
    handler: async (req, ctx) => {
      const orgId = req.params.orgId;
      await ctx.policy.requireOnOrg(principalOf(req.auth), 'roles:read', orgId);
      const defined = await ctx.readModels.roles.permissionsVisibleAt(orgId);
      return {
        status: 200,
        body: { items: [...builtInPermissions(), ...defined.map((p) => presentPermission(p, orgId))] },
      };
    },
  }),

  defineApiRoute({
    operationId: 'definePermission',
    method: 'post',
    path: '/orgs/{orgId}/permissions',
    summary: 'Define an application permission on an organization, visible there and below.',
    description:
      'Needs roles:write there. The name is 2 to 5 segments of `[a-z0-9][a-z0-9_-]{0,39}` joined by `:`, not starting with a reserved prefix (orgs, users, clients, events, roles, tokens, access), and unique within the tree.',
    tags,
    auth: 'bearer',
    permission: 'roles:write',
    request: {
      params: orgIdParams,
      headers: { type: 'object', properties: { 'idempotency-key': idempotencyKeyHeader } },
      body: { schema: definePermissionBody },
    },
    responses: {
      201: {
        description: 'Defined.',
        schema: permissionSchema,
        headers: { ...etagHeader, Location: { description: 'The application permission.' } },
        links: linksTo(['getPermission', 'updatePermission', 'deletePermission'], {
          orgId: '$request.path.orgId',
          name: '$response.body#/name',
        }),
      },
      ...errors,
      409: problemResponse('The name is defined in this tree already, or the idempotency key was reused.'),
    },
    handler: async (req, ctx) => {
      const orgId = req.params.orgId;
      const { name, description } = req.body;
      const created = async () => {
        const result = await mustReadPermission(ctx, orgId, name, orgId);
        return { ...result, status: 201, headers: { ...result.headers, Location: location(orgId, name) } };
      };
      return executeWrite(
        ctx,
        req,
        principalOf(req.auth),
        { type: 'DefinePermission', orgId, name, description },
        created,
        { provisional: { status: 201, headers: { Location: location(orgId, name) } }, represent: created },
      );
    },
  }),

  defineApiRoute({
    operationId: 'getPermission',
    method: 'get',
    path: '/orgs/{orgId}/permissions/{name}',
    summary: 'An application permission visible at the organization (defined on it or above it).',
    description: 'Built-in permission names answer 404: they are listed, not resources.',
    tags,
    auth: 'bearer',
    permission: 'roles:read',
    request: { params: permissionParams, headers: { type: 'object', properties: conditionalReadHeaders } },
    responses: {
      200: { description: 'The application permission.', schema: permissionSchema, headers: etagHeader },
      304: notModifiedResponse,
      ...errors,
      412: preconditionFailedResponse,
    },
    handler: async (req, ctx) => {
      const { orgId, name } = req.params;
      await ctx.policy.requireOnOrg(principalOf(req.auth), 'roles:read', orgId);
      const permission = await permissionVisibleAt(ctx, orgId, name);
      if (!permission) throw permissionNotFound(name);
      return definitionResult(permission.version, presentPermission(permission, orgId));
    },
  }),

  defineApiRoute({
    operationId: 'updatePermission',
    method: 'patch',
    path: '/orgs/{orgId}/permissions/{name}',
    summary: "Change an application permission's description (its name is its key and never changes).",
    tags,
    auth: 'bearer',
    permission: 'roles:write',
    request: { params: permissionParams, headers: conditionalWriteHeaders, body: { schema: updatePermissionBody } },
    responses: {
      200: { description: 'The application permission as changed.', schema: permissionSchema, headers: etagHeader },
      ...errors,
      412: preconditionFailedResponse,
    },
    handler: async (req, ctx) => {
      const { orgId, name } = req.params;
      const { definedOn, precondition } = await writeTarget(req, ctx, orgId, name);
      return executeWrite(
        ctx,
        req,
        principalOf(req.auth),
        { type: 'UpdatePermission', orgId: definedOn, name, description: req.body.description, ...precondition },
        () => mustReadPermission(ctx, definedOn, name, orgId),
      );
    },
  }),

  defineApiRoute({
    operationId: 'deletePermission',
    method: 'delete',
    path: '/orgs/{orgId}/permissions/{name}',
    summary: 'Delete an application permission that no role grants.',
    tags,
    auth: 'bearer',
    permission: 'roles:write',
    request: { params: permissionParams, headers: conditionalWriteHeaders },
    responses: {
      204: { description: 'Deleted.' },
      ...errors,
      409: problemResponse('A role grants it (IAM_ERR_DEFINITION_IN_USE, naming the roles).'),
      412: preconditionFailedResponse,
    },
    handler: async (req, ctx) => {
      const { orgId, name } = req.params;
      const { definedOn, precondition } = await writeTarget(req, ctx, orgId, name);
      return executeWrite(
        ctx,
        req,
        principalOf(req.auth),
        { type: 'DeletePermission', orgId: definedOn, name, ...precondition },
        async () => ({ status: 204 }),
      );
    },
  }),
];
