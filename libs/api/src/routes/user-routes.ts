import { Type, type Static } from '@sinclair/typebox';
import { IamError } from '@arbor/domain';
import type { Principal, UserMembershipView, UserView } from '@arbor/application';
import {
  defineRouteFor,
  problemResponse,
  representationTag,
  type HandlerRequest,
  type HandlerResult,
  type RouteDefinition,
} from '@arbor/http';
import type { ApiContext } from '../api-context';
import { bindPageCursor, openPageCursor } from '../page-cursors';
import {
  conditionalReadHeaders,
  conditionalWriteHeaders,
  etagHeader,
  notModifiedResponse,
  preconditionFailedResponse,
  preconditionOf,
} from '../preconditions';
import {
  PAGE_LIMIT_DEFAULT,
  displayNameSchema,
  idSchema,
  pageOf,
  pageQuery,
  userMembershipSchema,
  userSchema,
} from '../schemas';
import { executeWrite } from '../write-flow';
import { asOfQuery, historyPointInTime } from '../point-in-time';
import { POSITION_HEADER } from './access-evaluation-routes';

const defineApiRoute = defineRouteFor<ApiContext>();
const tags = ['Users'];
const params = Type.Object({ userId: idSchema }, { additionalProperties: false });
const errors = {
  400: problemResponse('Invalid input.'),
  401: problemResponse('Missing or invalid access token.'),
  404: problemResponse('No such user, or not visible to the caller.'),
};
const principalOf = (auth: unknown): Principal => auth as Principal;

/** The public shape of a user (contract section 6); an erased user keeps only id and status. */
export const presentUser = ({
  platformAdmin: _internal,
  sessionsNotBefore: _private,
  keptSessionId: _session,
  ...user
}: UserView) => user;

/** A user as a 200 with its strong ETag (derived from the body: see `representationTag`). */
const userResult = (user: UserView): HandlerResult => {
  const body = presentUser(user);
  return { status: 200, body, headers: { ETag: representationTag(body.version, body) } };
};

const conditionalReads = {
  304: notModifiedResponse,
  412: preconditionFailedResponse,
};

/**
 * A user's memberships as the principal may see them: all for themselves and platform admins, otherwise
 * those inside subtrees where the principal holds users:read. 404 when the user is not visible at all.
 */
async function visibleMembershipsOf(
  ctx: ApiContext,
  principal: Principal,
  userId: string,
): Promise<UserMembershipView[]> {
  const self = principal.type === 'user' && principal.id === userId;
  const within = self ? undefined : await ctx.policy.listScopeWith(principal, 'users:read');
  // Users see their own pending memberships (they are the ones it concerns); nobody else sees any.
  const memberships = await ctx.readModels.memberships.listByUser(userId, { ...within, includePending: self });
  const user = await ctx.readModels.users.get(userId);
  if (!user || (!self && within !== undefined && memberships.length === 0))
    throw new IamError('IAM_ERR_NOT_FOUND', `User ${userId} does not exist.`);
  return memberships;
}

/**
 * The user's confirmed memberships at `position`, as far as today's grants show them (contract section 8): the
 * caller's own, a platform admin's all; anyone else's only on organizations that lie now within the caller's
 * scope for users:read (so one deleted since shows to platform admins alone). 404 when the user did not exist then.
 */
async function pastMembershipsOf(
  ctx: ApiContext,
  principal: Principal,
  userId: string,
  position: number,
): Promise<UserMembershipView[]> {
  if ((await ctx.readModels.history.user(userId, position)) === undefined)
    throw new IamError('IAM_ERR_NOT_FOUND', `User ${userId} did not exist at log position ${position}.`);
  const past = await ctx.readModels.history.memberships(userId, position);
  const self = principal.type === 'user' && principal.id === userId;
  const within = self ? undefined : await ctx.policy.listScopeWith(principal, 'users:read');
  if (within === undefined) return past;
  const shown: UserMembershipView[] = [];
  for (const m of past) {
    let inScope = within.withinOrgs.includes(m.orgId);
    for (const root of within.withinSubtreesOf) if (!inScope) inScope = await ctx.policy.isWithin(m.orgId, root);
    if (inScope) shown.push(m);
  }
  return shown;
}

async function visibleUser(ctx: ApiContext, principal: Principal, userId: string): Promise<UserView> {
  await visibleMembershipsOf(ctx, principal, userId);
  const user = await ctx.readModels.users.get(userId);
  if (!user) throw new IamError('IAM_ERR_NOT_FOUND', `User ${userId} does not exist.`);
  return user;
}

const userBody = Type.Object(
  {
    name: Type.Optional(displayNameSchema(200, "The user's display name (their global profile).")),
    status: Type.Optional(
      Type.Unsafe<'active' | 'disabled'>({ enum: ['active', 'disabled'], description: 'Platform admins only.' }),
    ),
  },
  { title: 'UpdateUserRequest', additionalProperties: false, minProperties: 1 },
);

/** If-Match / If-None-Match on a user's write (preconditionOf): the version the command must still find. */
const userPrecondition = (ctx: ApiContext, req: HandlerRequest<unknown, unknown, unknown>, userId: string) =>
  preconditionOf(
    req,
    async () => {
      const user = await ctx.readModels.users.get(userId);
      return user && { version: user.version, body: presentUser(user), expected: { expectedVersion: user.version } };
    },
    `User ${userId} does not exist.`,
  );

/** PATCH of a user's own record: `{name?, status?}`, authorized by the command service (contract section 6). */
async function updateUser(
  req: HandlerRequest<unknown, unknown, Static<typeof userBody>>,
  ctx: ApiContext,
  userId: string,
): Promise<HandlerResult> {
  const principal = principalOf(req.auth);
  return executeWrite(
    ctx,
    req,
    principal,
    {
      type: 'UpdateUser',
      userId,
      name: req.body.name,
      status: req.body.status,
      ...(await userPrecondition(ctx, req, userId)),
    },
    async () => {
      const user = await ctx.readModels.users.get(userId);
      if (!user) throw new Error(`User ${userId} vanished after a confirmed write`);
      return userResult(user);
    },
  );
}

export const userRoutes: RouteDefinition<ApiContext>[] = [
  defineApiRoute({
    operationId: 'listUsers',
    method: 'get',
    path: '/users',
    summary: 'Users who belong to an organization the caller may read (every user, for platform admins).',
    tags,
    auth: 'bearer',
    permission: 'users:read',
    request: {
      query: Type.Object(
        {
          ...pageQuery,
          q: Type.Optional(Type.String({ minLength: 1, maxLength: 254 })),
          email: Type.Optional(Type.String({ minLength: 1, maxLength: 254 })),
        },
        { additionalProperties: false },
      ),
    },
    responses: { 200: { description: 'A page of users.', schema: pageOf(userSchema) }, ...errors },
    handler: async (req, ctx) => {
      const within = await ctx.policy.listScopeWith(principalOf(req.auth), 'users:read');
      const page = await ctx.readModels.users.list(
        { q: req.query.q, email: req.query.email, ...within },
        {
          limit: req.query.limit ?? PAGE_LIMIT_DEFAULT,
          cursor: await openPageCursor(ctx.cursorDigest, 'listUsers', req),
        },
      );
      return {
        status: 200,
        body: {
          items: page.items.map(presentUser),
          nextCursor: await bindPageCursor(ctx.cursorDigest, 'listUsers', req, page.nextCursor),
        },
      };
    },
  }),

  defineApiRoute({
    operationId: 'getCurrentUser',
    method: 'get',
    path: '/users/me',
    summary: 'The calling user (404 for clients, which are not users).',
    tags,
    auth: 'bearer',
    request: { headers: { type: 'object', properties: conditionalReadHeaders } },
    responses: {
      200: { description: 'The user.', schema: userSchema, headers: etagHeader },
      ...conditionalReads,
      ...errors,
    },
    handler: async (req, ctx) => {
      const principal = principalOf(req.auth);
      const user = principal.type === 'user' ? await ctx.readModels.users.get(principal.id) : undefined;
      if (!user) throw new IamError('IAM_ERR_NOT_FOUND', 'The caller is not a user.');
      return userResult(user);
    },
  }),

  defineApiRoute({
    operationId: 'getUser',
    method: 'get',
    path: '/users/{userId}',
    summary: 'A user: yourself, or someone in an organization you may read.',
    tags,
    auth: 'bearer',
    permission: 'users:read',
    request: { params, headers: { type: 'object', properties: conditionalReadHeaders } },
    responses: {
      200: { description: 'The user.', schema: userSchema, headers: etagHeader },
      ...conditionalReads,
      ...errors,
    },
    handler: async (req, ctx) => userResult(await visibleUser(ctx, principalOf(req.auth), req.params.userId)),
  }),

  defineApiRoute({
    operationId: 'listUserMemberships',
    method: 'get',
    path: '/users/{userId}/orgs',
    summary: "A user's direct memberships, as far as the caller may see them.",
    tags,
    auth: 'bearer',
    permission: 'users:read',
    request: { params, query: Type.Object({ ...asOfQuery }, { additionalProperties: false }) },
    responses: {
      200: {
        description:
          'The memberships (now, or as of the moment asked: the confirmed memberships of then, each organization ' +
          'with its name of then, with the position answered at).',
        headers: { [POSITION_HEADER]: { description: 'With asOf or asOfPosition: the log position.' } },
        schema: {
          title: 'UserMembershipList',
          type: 'object',
          additionalProperties: false,
          required: ['items'],
          properties: { items: { type: 'array', items: userMembershipSchema } },
        },
      },
      ...errors,
    },
    handler: async (req, ctx) => {
      const principal = principalOf(req.auth);
      const userId = req.params.userId;
      const present = () => visibleMembershipsOf(ctx, principal, userId);
      const position = await historyPointInTime(ctx, principal, req.query, 'users:read', present);
      if (position === undefined) return { status: 200, body: { items: await present() } };
      return {
        status: 200,
        headers: { [POSITION_HEADER]: String(position) },
        body: { items: await pastMembershipsOf(ctx, principal, userId, position) },
      };
    },
  }),

  defineApiRoute({
    operationId: 'updateCurrentUser',
    method: 'patch',
    path: '/users/me',
    summary: "Change the calling user's own profile (name).",
    tags,
    auth: 'bearer',
    request: { headers: conditionalWriteHeaders, body: { schema: userBody } },
    responses: {
      200: { description: 'The user.', schema: userSchema, headers: etagHeader },
      ...errors,
      403: problemResponse('Only platform admins change a user status.'),
      412: preconditionFailedResponse,
    },
    handler: async (req, ctx) => {
      const principal = principalOf(req.auth);
      if (principal.type !== 'user') throw new IamError('IAM_ERR_NOT_FOUND', 'The caller is not a user.');
      return updateUser(req, ctx, principal.id);
    },
  }),

  defineApiRoute({
    operationId: 'updateUser',
    method: 'patch',
    path: '/users/{userId}',
    summary:
      "Change a user's profile (the user, a platform admin, or whoever holds users:write on every organization the user belongs to) or status (platform admins: a disabled user cannot log in, and every session they had ends for good).",
    tags,
    auth: 'bearer',
    request: {
      params,
      headers: conditionalWriteHeaders,
      body: { schema: userBody },
    },
    responses: {
      200: { description: 'The user.', schema: userSchema, headers: etagHeader },
      ...errors,
      403: problemResponse('The caller may see the user but not change this; platform admins cannot be disabled.'),
      412: preconditionFailedResponse,
    },
    handler: async (req, ctx) => updateUser(req, ctx, req.params.userId),
  }),
  defineApiRoute({
    operationId: 'eraseUser',
    method: 'delete',
    path: '/users/{userId}',
    summary:
      'Erase a user (platform admins with users:write): their memberships and sessions end, their password goes, and their data key is destroyed, so their email and name read as erased everywhere, in the log\'s history and exports too (`{id, status: "erased"}`). The event log stays replayable and verifiable; subscribers receive UserErased.',
    tags,
    auth: 'bearer',
    request: { params, headers: conditionalWriteHeaders },
    responses: {
      204: { description: 'Erased.' },
      ...errors,
      403: problemResponse(
        'Only platform admins erase users; the last platform admin who can sign in cannot be erased.',
      ),
      404: problemResponse('No such user, or already erased.'),
      412: preconditionFailedResponse,
    },
    handler: async (req, ctx) => {
      const principal = principalOf(req.auth);
      const userId = req.params.userId;
      return executeWrite(
        ctx,
        req,
        principal,
        {
          type: 'EraseUser',
          userId,
          ...(await userPrecondition(ctx, req, userId)),
        },
        async () => ({ status: 204 }),
      );
    },
  }),
];
