import { Type } from '@sinclair/typebox';
import { newId } from '@arbor/domain';
import { orgAsOf, parentsAsOf, type OrgView, type Page, type Principal } from '@arbor/application';
import {
  defineRouteFor,
  describedPattern,
  problemResponse,
  representationTag,
  type HandlerRequest,
  type HandlerResult,
  type RouteDefinition,
} from '@arbor/http';
import type { ApiContext } from '../api-context';
import { bindPageCursor, openPageCursor } from '../page-cursors';
import {
  createOrgBody,
  idempotencyKeyHeader,
  idSchemaWith,
  linksTo,
  orgIdParams,
  orgSchema,
  PAGE_LIMIT_DEFAULT,
  pageOf,
  pageQuery,
  replaceOrgBody,
} from '../schemas';
import {
  conditionalReadHeaders,
  conditionalWriteHeaders,
  etagHeader,
  notModifiedResponse,
  preconditionFailedResponse,
  preconditionOf,
} from '../preconditions';
import { executeWrite } from '../write-flow';
import { asOfQuery, historyPointInTime, notThen, pointInTime, shownByTodaysGrants } from '../point-in-time';
import { POSITION_HEADER } from './access-evaluation-routes';

const defineApiRoute = defineRouteFor<ApiContext>();
const tags = ['Organizations'];
const commonErrors = {
  400: problemResponse('Invalid input.'),
  401: problemResponse('Missing or invalid access token.'),
  404: problemResponse('No such organization, or not visible to the caller.'),
};

const orgResult = (org: OrgView, status = 200, extra: Record<string, string> = {}): HandlerResult => ({
  status,
  body: org,
  headers: { ETag: representationTag(org.version, org), ...extra },
});

/** The `If-Match` / `If-None-Match` of a write to an organization, evaluated on it as it stands. */
const orgPrecondition = (ctx: ApiContext, req: HandlerRequest, orgId: string) =>
  preconditionOf(
    req,
    async () => {
      const org = await ctx.readModels.orgs.get(orgId);
      return org && { version: org.version, body: org, expected: { expectedVersion: org.version } };
    },
    `Organization ${orgId} does not exist.`,
  );

const principalOf = (auth: unknown): Principal => auth as Principal;

async function mustRead(ctx: ApiContext, orgId: string): Promise<OrgView> {
  const org = await ctx.readModels.orgs.get(orgId);
  // The write was confirmed and projected, so absence here means a concurrent delete won the race.
  if (!org) throw new Error(`Organization ${orgId} vanished after a confirmed write`);
  return org;
}

export const orgRoutes: RouteDefinition<ApiContext>[] = [
  defineApiRoute({
    operationId: 'createOrg',
    method: 'post',
    path: '/orgs',
    summary: 'Create an organization (a root when parentId is absent or null).',
    tags,
    auth: 'bearer',
    permission: 'orgs:write',
    request: {
      headers: { type: 'object', properties: { 'idempotency-key': idempotencyKeyHeader } },
      body: { schema: createOrgBody },
    },
    responses: {
      201: {
        description: 'Created.',
        schema: orgSchema,
        headers: { ...etagHeader, Location: { description: 'The new organization.' } },
        links: linksTo(['getOrg', 'replaceOrg', 'deleteOrg', 'listOrgChildren', 'listOrgParents'], {
          orgId: '$response.body#/id',
        }),
      },
      ...commonErrors,
      403: problemResponse('The caller may not create organizations here.'),
      409: problemResponse(
        'A sibling already has this name, the tree would be too deep, or the idempotency key was reused.',
      ),
    },
    handler: async (req, ctx) => {
      const principal = principalOf(req.auth);
      const parentId = req.body.parentId ?? null;
      const orgId = newId('org');
      const location = (id: string) => `/api/v1/orgs/${id}`;
      return executeWrite(
        ctx,
        req,
        principal,
        {
          type: 'CreateOrg',
          orgId,
          parentId,
          name: req.body.name,
          description: req.body.description,
          metadata: req.body.metadata,
        },
        async () => orgResult(await mustRead(ctx, orgId), 201, { Location: location(orgId) }),
        {
          provisional: { status: 201, headers: { Location: location(orgId) } },
          represent: async (record) => {
            const id =
              String(record.response?.headers.Location ?? '')
                .split('/')
                .pop() ?? '';
            return orgResult(await mustRead(ctx, id), 201, { Location: location(id) });
          },
        },
      );
    },
  }),

  defineApiRoute({
    operationId: 'listOrgs',
    method: 'get',
    path: '/orgs',
    summary: 'List the organizations the caller may read.',
    tags,
    auth: 'bearer',
    permission: 'orgs:read',
    request: {
      query: Type.Object(
        {
          ...pageQuery,
          parentId: Type.Optional(idSchemaWith('Only the direct children of this organization.')),
          q: Type.Optional(
            Type.String({ minLength: 1, maxLength: 200, description: 'Name contains (case-insensitive).' }),
          ),
        },
        { additionalProperties: false },
      ),
    },
    responses: { 200: { description: 'A page of organizations.', schema: pageOf(orgSchema) }, ...commonErrors },
    handler: async (req, ctx) => {
      const within = await ctx.policy.listScopeWith(principalOf(req.auth), 'orgs:read');
      const page = await ctx.readModels.orgs.list(
        { parentId: req.query.parentId, q: req.query.q, ...within },
        {
          limit: req.query.limit ?? PAGE_LIMIT_DEFAULT,
          cursor: await openPageCursor(ctx.cursorDigest, 'listOrgs', req),
        },
      );
      return {
        status: 200,
        body: { ...page, nextCursor: await bindPageCursor(ctx.cursorDigest, 'listOrgs', req, page.nextCursor) },
      };
    },
  }),

  defineApiRoute({
    operationId: 'getOrg',
    method: 'get',
    path: '/orgs/{orgId}',
    summary: 'Get an organization.',
    tags,
    auth: 'bearer',
    permission: 'orgs:read',
    request: {
      params: orgIdParams,
      query: Type.Object({ ...asOfQuery }, { additionalProperties: false }),
      headers: { type: 'object', properties: conditionalReadHeaders },
    },
    responses: {
      200: {
        description: 'The organization (now, with its ETag; or as of the moment asked, with the position answered at).',
        schema: orgSchema,
        headers: { ...etagHeader, [POSITION_HEADER]: { description: 'With asOf or asOfPosition: the log position.' } },
      },
      304: notModifiedResponse,
      ...commonErrors,
      412: preconditionFailedResponse,
    },
    handler: async (req, ctx) => {
      const principal = principalOf(req.auth);
      const orgId = req.params.orgId;
      const position = await pointInTime(ctx, principal, req.query, 'orgs:read', () =>
        ctx.policy.requireOnOrg(principal, 'orgs:read', orgId),
      );
      if (position === undefined) return orgResult(await ctx.policy.requireOnOrg(principal, 'orgs:read', orgId));
      const org = await orgAsOf(ctx.eventStore, orgId, position);
      if (org === undefined) throw notThen(orgId, position);
      // The ETag of that version, as the present had it then: conditional headers mean what they mean now.
      return orgResult(org, 200, { [POSITION_HEADER]: String(position) });
    },
  }),

  defineApiRoute({
    operationId: 'replaceOrg',
    method: 'put',
    path: '/orgs/{orgId}',
    summary: 'Replace an organization; a new parentId moves its whole subtree.',
    tags,
    auth: 'bearer',
    permission: 'orgs:write',
    request: {
      params: orgIdParams,
      headers: conditionalWriteHeaders,
      body: { schema: replaceOrgBody },
    },
    responses: {
      200: { description: 'The organization as replaced.', schema: orgSchema, headers: etagHeader },
      ...commonErrors,
      403: problemResponse('The caller may not change this organization or move it there.'),
      409: problemResponse('Name taken among the new siblings, a cycle, or the depth limit.'),
      412: preconditionFailedResponse,
    },
    handler: async (req, ctx) => {
      const principal = principalOf(req.auth);
      const orgId = req.params.orgId;
      const parentId = req.body.parentId;
      // Who may change this organization, and move it where, is the command service's decision
      // (AccessPolicy.requireMayMove): it holds for every transport.
      return executeWrite(
        ctx,
        req,
        principal,
        {
          type: 'ReplaceOrg',
          orgId,
          parentId,
          name: req.body.name,
          description: req.body.description,
          metadata: req.body.metadata,
          ...(await orgPrecondition(ctx, req, orgId)),
        },
        async () => orgResult(await mustRead(ctx, orgId)),
      );
    },
  }),

  defineApiRoute({
    operationId: 'deleteOrg',
    method: 'delete',
    path: '/orgs/{orgId}',
    summary: 'Delete an organization; with recursive=true, its whole subtree.',
    tags,
    auth: 'bearer',
    permission: 'orgs:delete',
    request: {
      params: orgIdParams,
      query: Type.Object(
        { recursive: Type.Optional(Type.Boolean({ default: false })) },
        { additionalProperties: false },
      ),
      headers: conditionalWriteHeaders,
    },
    responses: {
      204: { description: 'Deleted.' },
      ...commonErrors,
      403: problemResponse('The caller may not delete this organization.'),
      409: problemResponse('The organization has children and recursive is not true.'),
      412: preconditionFailedResponse,
    },
    handler: async (req, ctx) => {
      const principal = principalOf(req.auth);
      const orgId = req.params.orgId;
      return executeWrite(
        ctx,
        req,
        principal,
        {
          type: 'DeleteOrg',
          orgId,
          recursive: req.query.recursive === true,
          ...(await orgPrecondition(ctx, req, orgId)),
        },
        async () => ({ status: 204 }),
      );
    },
  }),

  defineApiRoute({
    operationId: 'listOrgChildren',
    method: 'get',
    path: '/orgs/{orgId}/children',
    summary: 'Descendants down to `depth` levels below that the caller may read, ordered by depth, then name.',
    tags,
    auth: 'bearer',
    permission: 'orgs:read',
    request: {
      params: orgIdParams,
      query: Type.Object(
        {
          ...pageQuery,
          ...asOfQuery,
          depth: Type.Optional(
            Type.String({
              pattern: describedPattern('^([1-9][0-9]{0,3}|all)$', 'must be a whole number from 1 to 9999, or all'),
              default: '1',
              description: 'Levels below (>= 1) or "all".',
            }),
          ),
        },
        { additionalProperties: false },
      ),
    },
    responses: {
      200: {
        description:
          'A page of descendants (now, or as of the moment asked: the tree of then, with the position answered at; a ' +
          'page may then hold fewer items than the limit, see contract section 8).',
        schema: pageOf(orgSchema),
        headers: { [POSITION_HEADER]: { description: 'With asOf or asOfPosition: the log position.' } },
      },
      ...commonErrors,
    },
    handler: async (req, ctx) => {
      const principal = principalOf(req.auth);
      const orgId = req.params.orgId;
      const present = () => ctx.policy.requireOnOrg(principal, 'orgs:read', orgId);
      const position = await historyPointInTime(ctx, principal, req.query, 'orgs:read', present);
      if (position === undefined) await present();
      const depth = req.query.depth === 'all' ? null : Number(req.query.depth);
      const pageRequest = {
        limit: req.query.limit ?? PAGE_LIMIT_DEFAULT,
        cursor: await openPageCursor(ctx.cursorDigest, 'listOrgChildren', req),
      };
      // An organization-only role on orgId reads orgId alone: its descendants are shown only where the caller reads
      // them one by one (a page may then hold fewer items than the limit; the cursor still leads to the rest).
      const wholeSubtree = await ctx.policy.reachesSubtree(principal, 'orgs:read', orgId);
      let page: Page<OrgView>;
      if (position === undefined) {
        page = await ctx.readModels.orgs.children(orgId, depth, pageRequest);
        if (!wholeSubtree) page = { ...page, items: await shownByTodaysGrants(ctx, principal, page.items, notRelated) };
      } else {
        if ((await ctx.readModels.history.org(orgId, position)) === undefined) throw notThen(orgId, position);
        const past = await ctx.readModels.history.children(orgId, position, depth, pageRequest);
        // A descendant of then that has left the subtree since is shown only where today's grants show it.
        const stillBelow = wholeSubtree ? (id: string) => ctx.policy.isWithin(id, orgId) : notRelated;
        page = { ...past, items: await shownByTodaysGrants(ctx, principal, past.items, stillBelow) };
      }
      return {
        status: 200,
        headers: position === undefined ? undefined : { [POSITION_HEADER]: String(position) },
        body: { ...page, nextCursor: await bindPageCursor(ctx.cursorDigest, 'listOrgChildren', req, page.nextCursor) },
      };
    },
  }),

  defineApiRoute({
    operationId: 'listOrgParents',
    method: 'get',
    path: '/orgs/{orgId}/parents',
    summary: 'Every ancestor, root first and the direct parent last (breadcrumbs).',
    tags,
    auth: 'bearer',
    permission: 'orgs:read',
    request: { params: orgIdParams, query: Type.Object({ ...asOfQuery }, { additionalProperties: false }) },
    responses: {
      200: {
        description: 'The ancestors (now, or as of the moment asked, with the position answered at).',
        headers: { [POSITION_HEADER]: { description: 'With asOf or asOfPosition: the log position.' } },
        schema: {
          title: 'OrganizationList',
          type: 'object',
          additionalProperties: false,
          required: ['items'],
          properties: { items: { type: 'array', items: orgSchema } },
        },
      },
      ...commonErrors,
    },
    handler: async (req, ctx) => {
      const principal = principalOf(req.auth);
      const orgId = req.params.orgId;
      const present = () => ctx.policy.requireOnOrg(principal, 'orgs:read', orgId);
      // A past ancestor the organization has left (moved since, perhaps out of another tenant's tree) is shown to
      // a caller who is not a platform admin only if today's grants show it: one of its ancestors now (as the
      // present answer does), or an organization the caller may read now.
      const visible = async (past: OrgView[]): Promise<OrgView[]> => {
        const now = new Set((await ctx.readModels.orgs.parents(orgId)).map((o) => o.id));
        return shownByTodaysGrants(ctx, principal, past, async (id) => now.has(id));
      };
      const position = await pointInTime(ctx, principal, req.query, 'orgs:read', present);
      if (position === undefined) {
        await present();
        return { status: 200, body: { items: await ctx.readModels.orgs.parents(orgId) } };
      }
      const past = await parentsAsOf(ctx.eventStore, orgId, position);
      if (past === undefined) throw notThen(orgId, position);
      return { status: 200, headers: { [POSITION_HEADER]: String(position) }, body: { items: await visible(past) } };
    },
  }),
];

/** For shownByTodaysGrants: no organization is shown by its relation alone (each needs the caller's own read). */
const notRelated = async (): Promise<boolean> => false;
