import { Type } from '@sinclair/typebox';
import { newId } from '@arbor/domain';
import { ancestorsAt, type Principal, type RoleView } from '@arbor/application';
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
import { defineRoleBody, roleListSchema, roleParams, roleSchema, updateRoleBody } from '../role-schemas';
import {
  builtInRoles,
  definitionResult,
  presentRole,
  requireReachesDefiningOrg,
  requireSeesOrg,
  roleNotFound,
  roleVisibleAt,
} from '../role-views';
import { idempotencyKeyHeader, linksTo, orgIdParams } from '../schemas';
import { executeWrite } from '../write-flow';
import { asOfQuery, historyPointInTime, notThen } from '../point-in-time';
import { pastLineageShownTo } from '../past-visibility';
import { POSITION_HEADER } from './access-evaluation-routes';

const defineApiRoute = defineRouteFor<ApiContext>();
const tags = ['Roles and permissions'];
const errors = {
  400: problemResponse('Invalid input: a malformed field, or a permission unknown or not visible here.'),
  401: problemResponse('Missing or invalid access token.'),
  403: problemResponse(
    'The caller may see the organization but not do this (roles:write there, or holding every permission the role grants).',
  ),
  404: problemResponse('No such organization or role visible here, or not visible to the caller.'),
};
const principalOf = (auth: unknown): Principal => auth as Principal;
const location = (orgId: string, roleId: string) => `/api/v1/orgs/${orgId}/roles/${roleId}`;

/** The role as the read models hold it after a confirmed write (absent only if a concurrent delete won). */
async function mustReadRole(ctx: ApiContext, roleId: string, orgId: string) {
  const role = await ctx.readModels.roles.get(roleId);
  if (!role) throw new Error(`Role ${roleId} vanished after a confirmed write`);
  return definitionResult(role.version, presentRole(role, orgId));
}

/**
 * The custom role a write addresses at `/orgs/{orgId}/roles/{roleId}` (404 unless the caller may see `orgId`
 * and the role is visible there), and the command's `If-Match` precondition against its representation there.
 */
async function writeTarget(req: HandlerRequest, ctx: ApiContext, orgId: string, roleId: string) {
  await requireSeesOrg(ctx, principalOf(req.auth), orgId);
  const found = await roleVisibleAt(ctx, orgId, roleId);
  if (!found) throw roleNotFound(roleId);
  await requireReachesDefiningOrg(ctx, principalOf(req.auth), orgId, found.orgId);
  return preconditionOf(
    req,
    async () => {
      const role = await roleVisibleAt(ctx, orgId, roleId);
      return (
        role && { version: role.version, body: presentRole(role, orgId), expected: { expectedVersion: role.version } }
      );
    },
    `Role ${roleId} does not exist.`,
  );
}

export const roleRoutes: RouteDefinition<ApiContext>[] = [
  defineApiRoute({
    operationId: 'listRoles',
    method: 'get',
    path: '/orgs/{orgId}/roles',
    summary:
      'The roles usable on an organization: the built-in ones, then custom roles defined on it or above it (root first).',
    description:
      '`inherited` marks those not defined on this organization (defined on an ancestor, or built in); `definedOn` names the defining organization (`null` for a built-in). Not paged: definitions are few.',
    tags,
    auth: 'bearer',
    permission: 'roles:read',
    request: { params: orgIdParams, query: Type.Object({ ...asOfQuery }, { additionalProperties: false }) },
    responses: {
      200: {
        description:
          'The roles visible here (now, or as of the moment asked: the definitions of then, on the ancestors of then, ' +
          'with the position answered at).',
        schema: roleListSchema,
        headers: { [POSITION_HEADER]: { description: 'With asOf or asOfPosition: the log position.' } },
      },
      ...errors,
    },
    handler: async (req, ctx) => {
      const orgId = req.params.orgId;
      const principal = principalOf(req.auth);
      const present = () => ctx.policy.requireOnOrg(principal, 'roles:read', orgId);
      const position = await historyPointInTime(ctx, principal, req.query, 'roles:read', present);
      if (position === undefined) {
        await present();
        const custom = await ctx.readModels.roles.visibleAt(orgId);
        return { status: 200, body: { items: [...builtInRoles(), ...custom.map((r) => presentRole(r, orgId))] } };
      }
      const history = ctx.readModels.history;
      if ((await history.org(orgId, position)) === undefined) throw notThen(orgId, position);
      // The ancestors of then a past decision counts for this caller (pastLineageShownTo), no more and no fewer: a
      // role defined on one the organization has left is listed where, and only where, decisions count it.
      const ancestors = await ancestorsAt(history, position, orgId, pastLineageShownTo(ctx, principal));
      const chain = [...ancestors.map((o) => o.id), orgId];
      const byOrg = new Map<string, RoleView[]>();
      for (const role of await history.roles(position)) byOrg.set(role.orgId, [...(byOrg.get(role.orgId) ?? []), role]);
      // Root first, then by id: the present's order (RoleQueries.visibleAt).
      const custom = chain.flatMap((id) => byOrg.get(id) ?? []);
      return {
        status: 200,
        headers: { [POSITION_HEADER]: String(position) },
        body: { items: [...builtInRoles(), ...custom.map((r) => presentRole(r, orgId))] },
      };
    },
  }),

  defineApiRoute({
    operationId: 'defineRole',
    method: 'post',
    path: '/orgs/{orgId}/roles',
    summary: 'Define a custom role on an organization, usable there and below.',
    description:
      'Needs roles:write on the organization and holding there every permission the role grants (an owner-level role, one granting orgs:delete, needs orgs:delete). `appliesTo` defaults to `subtree`.',
    tags,
    auth: 'bearer',
    permission: 'roles:write',
    request: {
      params: orgIdParams,
      headers: { type: 'object', properties: { 'idempotency-key': idempotencyKeyHeader } },
      body: { schema: defineRoleBody },
    },
    responses: {
      201: {
        description: 'Defined.',
        schema: roleSchema,
        headers: { ...etagHeader, Location: { description: 'The role.' } },
        links: linksTo(['getRole', 'updateRole', 'deleteRole'], {
          orgId: '$request.path.orgId',
          roleId: '$response.body#/id',
        }),
      },
      ...errors,
      409: problemResponse(
        'A role of this name is defined on the organization (or the name is built in), or the idempotency key was reused.',
      ),
    },
    handler: async (req, ctx) => {
      const orgId = req.params.orgId;
      const roleId = newId('role');
      const { name, description, permissions, appliesTo } = req.body;
      const created = async (id: string) => {
        const result = await mustReadRole(ctx, id, orgId);
        return { ...result, status: 201, headers: { ...result.headers, Location: location(orgId, id) } };
      };
      return executeWrite(
        ctx,
        req,
        principalOf(req.auth),
        { type: 'DefineRole', roleId, orgId, name, description, permissions, appliesTo },
        () => created(roleId),
        {
          provisional: { status: 201, headers: { Location: location(orgId, roleId) } },
          represent: async (record) =>
            created(
              String(record.response?.headers.Location ?? '')
                .split('/')
                .pop() ?? '',
            ),
        },
      );
    },
  }),

  defineApiRoute({
    operationId: 'getRole',
    method: 'get',
    path: '/orgs/{orgId}/roles/{roleId}',
    summary: 'A custom role visible at the organization (defined on it or above it).',
    description:
      'The same role is the same resource under every organization where it is visible; elsewhere, and for the built-in ids, 404.',
    tags,
    auth: 'bearer',
    permission: 'roles:read',
    request: { params: roleParams, headers: { type: 'object', properties: conditionalReadHeaders } },
    responses: {
      200: { description: 'The role.', schema: roleSchema, headers: etagHeader },
      304: notModifiedResponse,
      ...errors,
      412: preconditionFailedResponse,
    },
    handler: async (req, ctx) => {
      const { orgId, roleId } = req.params;
      await ctx.policy.requireOnOrg(principalOf(req.auth), 'roles:read', orgId);
      const role = await roleVisibleAt(ctx, orgId, roleId);
      if (!role) throw roleNotFound(roleId);
      return definitionResult(role.version, presentRole(role, orgId));
    },
  }),

  defineApiRoute({
    operationId: 'updateRole',
    method: 'patch',
    path: '/orgs/{orgId}/roles/{roleId}',
    summary: "Change a custom role's name, description, permissions or reach (absent members stay).",
    description:
      'Needs roles:write on the defining organization and holding there every permission the role grants now and will grant. Every grant of the role changes with it.',
    tags,
    auth: 'bearer',
    permission: 'roles:write',
    request: { params: roleParams, headers: conditionalWriteHeaders, body: { schema: updateRoleBody } },
    responses: {
      200: { description: 'The role as changed.', schema: roleSchema, headers: etagHeader },
      ...errors,
      409: problemResponse('Another role of the defining organization has this name.'),
      412: preconditionFailedResponse,
    },
    handler: async (req, ctx) => {
      const { orgId, roleId } = req.params;
      const precondition = await writeTarget(req, ctx, orgId, roleId);
      return executeWrite(
        ctx,
        req,
        principalOf(req.auth),
        { type: 'UpdateRole', roleId, ...req.body, ...precondition },
        () => mustReadRole(ctx, roleId, orgId),
      );
    },
  }),

  defineApiRoute({
    operationId: 'deleteRole',
    method: 'delete',
    path: '/orgs/{orgId}/roles/{roleId}',
    summary: 'Delete a custom role; with removeGrants=true, end its grants first.',
    description:
      'A role granted on a membership or client credential is a 409 IAM_ERR_DEFINITION_IN_USE unless `removeGrants=true`: then each grant ends with its own event (a membership left without a role ends), then the role.',
    tags,
    auth: 'bearer',
    permission: 'roles:write',
    request: {
      params: roleParams,
      query: Type.Object(
        { removeGrants: Type.Optional(Type.Boolean({ default: false })) },
        { additionalProperties: false },
      ),
      headers: conditionalWriteHeaders,
    },
    responses: {
      204: { description: 'Deleted.' },
      ...errors,
      409: problemResponse('The role is granted and removeGrants is not true.'),
      412: preconditionFailedResponse,
    },
    handler: async (req, ctx) => {
      const { orgId, roleId } = req.params;
      const precondition = await writeTarget(req, ctx, orgId, roleId);
      return executeWrite(
        ctx,
        req,
        principalOf(req.auth),
        { type: 'DeleteRole', roleId, removeGrants: req.query.removeGrants === true, ...precondition },
        async () => ({ status: 204 }),
      );
    },
  }),
];
