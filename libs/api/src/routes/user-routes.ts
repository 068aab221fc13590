import { IamError } from '@arbor/domain';
import type { Principal, UserView } from '@arbor/application';
import { defineRoute, problemResponse, type RouteDefinition } from '@arbor/http';
import type { ApiContext } from '../api-context';
import { idSchema, ifMatchHeader, pageOf, pageQuery, userMembershipSchema, userSchema } from '../schemas';
import { etag, executeWrite, parseIfMatch } from '../write-flow';

const tags = ['Users'];
const params = { type: 'object', additionalProperties: false, required: ['userId'], properties: { userId: idSchema } };
const errors = { 400: problemResponse('Invalid input.'), 401: problemResponse('Missing or invalid access token.'), 404: problemResponse('No such user, or not visible to the caller.') };
const principalOf = (auth: unknown): Principal => auth as Principal;

/** The public shape of a user (contract section 6); an erased user keeps only id and status. */
export const presentUser = ({ platformAdmin: _internal, ...user }: UserView) => user;

async function visibleUser(ctx: ApiContext, principal: Principal, userId: string): Promise<UserView> {
  await ctx.policy.visibleMembershipsOf(principal, userId);
  const user = await ctx.readModels.users.get(userId);
  if (!user) throw new IamError('IAM_ERR_NOT_FOUND', `User ${userId} does not exist.`);
  return user;
}

export const userRoutes: RouteDefinition<ApiContext>[] = [
  defineRoute<ApiContext>({
    operationId: 'listUsers',
    method: 'get',
    path: '/users',
    summary: 'Users who belong to an organization the caller may read (every user, for platform admins).',
    tags,
    auth: 'bearer',
    permission: 'users:read',
    request: {
      query: {
        type: 'object',
        additionalProperties: false,
        properties: { ...pageQuery, q: { type: 'string', minLength: 1, maxLength: 254 }, email: { type: 'string', minLength: 1, maxLength: 254 } },
      },
    },
    responses: { 200: { description: 'A page of users.', schema: pageOf(userSchema) }, ...errors },
    handler: async (req, ctx) => {
      const within = await ctx.policy.subtreesWith(principalOf(req.auth), 'users:read');
      const page = await ctx.readModels.users.list({ q: req.query.q, email: req.query.email, withinSubtreesOf: within }, { limit: req.query.limit, cursor: req.query.cursor });
      return { status: 200, body: { items: page.items.map(presentUser), nextCursor: page.nextCursor } };
    },
  }),

  defineRoute<ApiContext>({
    operationId: 'getCurrentUser',
    method: 'get',
    path: '/users/me',
    summary: 'The calling user (404 for clients, which are not users).',
    tags,
    auth: 'bearer',
    responses: { 200: { description: 'The user.', schema: userSchema }, ...errors },
    handler: async (req, ctx) => {
      const principal = principalOf(req.auth);
      const user = principal.type === 'user' ? await ctx.readModels.users.get(principal.id) : undefined;
      if (!user) throw new IamError('IAM_ERR_NOT_FOUND', 'The caller is not a user.');
      return { status: 200, body: presentUser(user), headers: { ETag: etag(user.version) } };
    },
  }),

  defineRoute<ApiContext>({
    operationId: 'getUser',
    method: 'get',
    path: '/users/{userId}',
    summary: 'A user: yourself, or someone in an organization you may read.',
    tags,
    auth: 'bearer',
    permission: 'users:read',
    request: { params },
    responses: { 200: { description: 'The user.', schema: userSchema }, ...errors },
    handler: async (req, ctx) => {
      const user = await visibleUser(ctx, principalOf(req.auth), req.params.userId);
      return { status: 200, body: presentUser(user), headers: { ETag: etag(user.version) } };
    },
  }),

  defineRoute<ApiContext>({
    operationId: 'listUserMemberships',
    method: 'get',
    path: '/users/{userId}/orgs',
    summary: "A user's direct memberships, as far as the caller may see them.",
    tags,
    auth: 'bearer',
    permission: 'users:read',
    request: { params },
    responses: {
      200: {
        description: 'The memberships.',
        schema: { type: 'object', additionalProperties: false, required: ['items'], properties: { items: { type: 'array', items: userMembershipSchema } } },
      },
      ...errors,
    },
    handler: async (req, ctx) => ({ status: 200, body: { items: await ctx.policy.visibleMembershipsOf(principalOf(req.auth), req.params.userId) } }),
  }),

  defineRoute<ApiContext>({
    operationId: 'setUserStatus',
    method: 'patch',
    path: '/users/{userId}',
    summary: 'Disable or re-enable a user (platform admins). A disabled user cannot log in and their tokens stop working at once.',
    tags,
    auth: 'bearer',
    permission: 'users:write',
    request: {
      params,
      headers: { type: 'object', properties: { 'if-match': ifMatchHeader } },
      body: { schema: { type: 'object', additionalProperties: false, required: ['status'], properties: { status: { enum: ['active', 'disabled'] } } } },
    },
    responses: {
      200: { description: 'The user.', schema: userSchema },
      ...errors,
      403: problemResponse('Only platform admins change a user status; platform admins cannot be disabled.'),
      412: problemResponse('If-Match does not name the current version.'),
    },
    handler: async (req, ctx) => {
      const principal = principalOf(req.auth);
      ctx.policy.requirePlatform(principal, 'users:write');
      const { userId } = req.params;
      return executeWrite(
        ctx,
        req,
        principal,
        { type: 'SetUserStatus', userId, status: req.body.status, expectedVersion: parseIfMatch(req.headers['if-match']) },
        async () => {
          const user = await ctx.readModels.users.get(userId);
          if (!user) throw new Error(`User ${userId} vanished after a confirmed write`);
          return { status: 200, body: presentUser(user), headers: { ETag: etag(user.version) } };
        },
      );
    },
  }),
];
