import { Type, type Static } from '@sinclair/typebox';
import { IamError, newUntimedId, type StoredEvent } from '@arbor/domain';
import type { OrgUserView, Principal } from '@arbor/application';
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
  conditionalPostHeaders,
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
  emailSchema,
  idempotencyKeyHeader,
  idSchema,
  linksTo,
  orgUserSchema,
  pageOf,
  pageQuery,
  roleIdSchema,
  rolesSchema,
} from '../schemas';
import { executeWrite } from '../write-flow';
import { asOfQuery, historyPointInTime, notThen } from '../point-in-time';
import { POSITION_HEADER } from './access-evaluation-routes';

const defineApiRoute = defineRouteFor<ApiContext>();
const tags = ['Organization users'];
const params = Type.Object({ orgId: idSchema }, { additionalProperties: false });
const memberParams = Type.Object({ orgId: idSchema, userId: idSchema }, { additionalProperties: false });

const addExistingUser = Type.Object(
  { userId: idSchema, roles: rolesSchema },
  { title: 'AddExistingUserRequest', additionalProperties: false },
);
const addUserByEmail = Type.Object(
  {
    email: emailSchema,
    name: displayNameSchema(),
    password: Type.Optional(
      Type.String({
        minLength: 8,
        maxLength: 1024,
        writeOnly: true,
        description: 'For a new user only; without one, the user cannot log in until a password is set.',
      }),
    ),
    roles: rolesSchema,
  },
  { title: 'AddUserByEmailRequest', additionalProperties: false },
);
/** Either an existing user by id, or a user by email (created when the email is new): exactly one (`oneOf`). */
const addOrgUserBody = Type.Unsafe<Static<typeof addExistingUser> | Static<typeof addUserByEmail>>({
  title: 'AddOrgUserRequest',
  type: 'object',
  oneOf: [addExistingUser, addUserByEmail],
});
const errors = {
  400: problemResponse('Invalid input.'),
  401: problemResponse('Missing or invalid access token.'),
  403: problemResponse('The caller may see the organization but not do this.'),
  404: problemResponse('No such organization or member, or not visible to the caller.'),
};

const principalOf = (auth: unknown): Principal => auth as Principal;
const location = (orgId: string, userId: string) => `/api/v1/orgs/${orgId}/users/${userId}`;

/** The public org user (contract section 6): whether a membership is pending, and the user's version, are not part of it. */
const presentOrgUser = ({ pending: _internal, userVersion: _user, ...view }: OrgUserView) => view;

const orgUserResult = (view: OrgUserView, status = 200, extra: Record<string, string> = {}): HandlerResult => {
  const body = presentOrgUser(view);
  return { status, body, headers: { ETag: representationTag(body.version, body), ...extra } };
};

/**
 * The `If-Match` / `If-None-Match` of a write to an org user, evaluated on it as it stands (pending or not:
 * who may see a pending one is the command side's call). The command then expects both the membership and
 * the user (whose name and status the org user shows) unchanged.
 */
const orgUserPrecondition = (ctx: ApiContext, req: HandlerRequest, orgId: string, userId: string) =>
  preconditionOf(
    req,
    async () => {
      const view = await ctx.readModels.memberships.get(orgId, userId, { includePending: true });
      return (
        view && {
          version: view.version,
          body: presentOrgUser(view),
          expected: { expectedVersion: view.version, expectedUserVersion: view.userVersion },
        }
      );
    },
    `User ${userId} is not a direct member of ${orgId}.`,
  );

/** The membership a write just made or changed, pending or not. */
async function mustRead(ctx: ApiContext, orgId: string, userId: string): Promise<OrgUserView> {
  const view = await ctx.readModels.memberships.get(orgId, userId, { includePending: true });
  if (!view) throw new Error(`Membership ${orgId}/${userId} vanished after a confirmed write`);
  return view;
}

async function requireMember(
  ctx: ApiContext,
  orgId: string,
  userId: string,
  includePending = false,
): Promise<OrgUserView> {
  const view = await ctx.readModels.memberships.get(orgId, userId, { includePending });
  if (!view) throw new IamError('IAM_ERR_NOT_FOUND', `User ${userId} is not a direct member of ${orgId}.`);
  return view;
}

/** The user a command added: an email may have named an existing user rather than the new id. */
function addedUserOf(events: StoredEvent[]): string {
  const added = events.find((e) => e.type === 'UserAddedToOrg');
  if (!added) throw new Error('No UserAddedToOrg among the events of an applied AddUserToOrg');
  return (added.data as { userId: string }).userId;
}

/** Whether `email` names an existing account that the caller cannot see (read before the add links it). */
async function isHiddenAccount(ctx: ApiContext, principal: Principal, email: string): Promise<boolean> {
  const existing = await ctx.readModels.users.findByEmail(email.normalize('NFC').trim());
  return existing !== undefined && !(await ctx.policy.maySeeUser(principal, existing.id));
}

/** An org user's version counts its membership's own changes: a new membership reads 1. */
const NEW_ORG_USER_VERSION = 1;

/**
 * The org user as a creation from this body would read: the supplied email and name (as the domain would
 * store them), an active user, a new user's version. Only the id, roles and time of the membership are real.
 */
function asSupplied(view: OrgUserView, body: { email: string; name: string }): OrgUserView {
  const email = body.email.normalize('NFC').trim();
  const name = body.name.normalize('NFC').trim();
  return { ...view, email, name, status: 'active', version: NEW_ORG_USER_VERSION };
}

export const orgUserRoutes: RouteDefinition<ApiContext>[] = [
  defineApiRoute({
    operationId: 'addOrgUser',
    method: 'post',
    path: '/orgs/{orgId}/users',
    summary:
      'Add a user to an organization: `{userId, roles}` for an existing user, `{email, name, password?, roles}` to create one.',
    description:
      'With an email that already belongs to a user, that user is added and keeps their own name and password.',
    tags,
    auth: 'bearer',
    permission: 'users:write',
    request: {
      params,
      headers: { type: 'object', properties: { 'idempotency-key': idempotencyKeyHeader } },
      body: {
        invalidDetail:
          'The request body is invalid (errors names each problem). Give either userId and roles, or email, name and roles (a password is optional).',
        schema: addOrgUserBody,
      },
    },
    responses: {
      201: {
        description: 'Added.',
        schema: orgUserSchema,
        headers: { ...etagHeader, Location: { description: 'The org user.' } },
        links: linksTo(['getOrgUser', 'updateOrgUser', 'removeOrgUser', 'confirmOrgUser'], {
          orgId: '$response.body#/orgId',
          userId: '$response.body#/userId',
        }),
      },
      ...errors,
      409: problemResponse('Already a member, or the idempotency key was reused.'),
    },
    handler: async (req, ctx) => {
      const principal = principalOf(req.auth);
      const { orgId } = req.params;
      // The body schema's oneOf already holds exactly one of the two shapes.
      const byEmail = 'email' in req.body ? req.body : undefined;
      // Adding by email must answer the same whether or not the email was known (contract section 6): for
      // an account the caller cannot already see, the answer holds what the caller supplied, nothing more.
      const hidden = byEmail !== undefined && (await isHiddenAccount(ctx, principal, byEmail.email));
      const command = {
        type: 'AddUserToOrg' as const,
        orgId,
        roles: req.body.roles,
        existingUserId: 'userId' in req.body ? req.body.userId : undefined,
        newUser: byEmail && {
          userId: newUntimedId('usr'),
          email: byEmail.email,
          name: byEmail.name,
          password: byEmail.password,
        },
      };
      return executeWrite(
        ctx,
        req,
        principal,
        command,
        async (events) => {
          const userId = addedUserOf(events);
          const view = await mustRead(ctx, orgId, userId);
          return orgUserResult(hidden && byEmail ? asSupplied(view, byEmail) : view, 201, {
            Location: location(orgId, userId),
          });
        },
        {
          provisional: { status: 201, headers: {} },
          // The body shows the member's email and name: kept for replays only sealed under their own key.
          personalDataOf: (_result, events) => addedUserOf(events),
          represent: async (record) => {
            // The first request's events end at its position: [UserCreated,] UserAddedToOrg.
            const position = record.response?.position ?? 1;
            const events = await ctx.eventStore.readAll({ after: Math.max(0, position - 2), limit: 2 });
            const userId = addedUserOf(events.slice(-1));
            const created = events.some(
              (e) => e.type === 'UserCreated' && (e.data as { userId?: string }).userId === userId,
            );
            // The member may have been removed since (and, erased, their stored response unreadable): 404 then.
            const view = await ctx.readModels.memberships.get(orgId, userId, { includePending: true });
            if (!view) throw new IamError('IAM_ERR_NOT_FOUND', `User ${userId} is not a direct member of ${orgId}.`);
            // Whether the caller could see a linked account then is not known now: disclose nothing.
            const linkedByEmail = !created && byEmail !== undefined;
            return orgUserResult(linkedByEmail ? asSupplied(view, byEmail) : view, 201, {
              Location: location(orgId, userId),
            });
          },
        },
      );
    },
  }),

  defineApiRoute({
    operationId: 'listOrgUsers',
    method: 'get',
    path: '/orgs/{orgId}/users',
    summary: 'Direct members of an organization.',
    tags,
    auth: 'bearer',
    permission: 'users:read',
    request: {
      params,
      query: Type.Object(
        {
          ...pageQuery,
          ...asOfQuery,
          role: Type.Optional(roleIdSchema),
          q: Type.Optional(Type.String({ minLength: 1, maxLength: 254 })),
          pending: Type.Optional(
            Type.Boolean({
              default: false,
              description:
                'Platform admins: list the pending memberships (accounts added by callers who could not see them) instead.',
            }),
          ),
        },
        { additionalProperties: false },
      ),
    },
    responses: {
      200: {
        description:
          'A page of org users (now, or as of the moment asked: the memberships and roles of then, with today’s ' +
          'email and name, so an erased user reads as erased; with the position answered at).',
        schema: pageOf(orgUserSchema),
        headers: { [POSITION_HEADER]: { description: 'With asOf or asOfPosition: the log position.' } },
      },
      ...errors,
      400: problemResponse('Bad input; or `pending` with asOf or asOfPosition (the past lists confirmed memberships).'),
      403: problemResponse('Only platform admins list pending memberships.'),
    },
    handler: async (req, ctx) => {
      const principal = principalOf(req.auth);
      const orgId = req.params.orgId;
      const present = () => ctx.policy.requireOnOrg(principal, 'users:read', orgId);
      const position = await historyPointInTime(ctx, principal, req.query, 'users:read', present);
      if (position === undefined) await present();
      if (req.query.pending) ctx.policy.requirePlatform(principal, 'users:read');
      if (req.query.pending && position !== undefined)
        throw new IamError('IAM_ERR_VALIDATION', 'The past lists confirmed memberships only.', [
          { path: '/query/pending', message: 'must not be given with asOf or asOfPosition' },
        ]);
      const pageRequest = {
        limit: req.query.limit ?? PAGE_LIMIT_DEFAULT,
        cursor: await openPageCursor(ctx.cursorDigest, 'listOrgUsers', req),
      };
      if (position !== undefined && (await ctx.readModels.history.org(orgId, position)) === undefined)
        throw notThen(orgId, position);
      const page =
        position === undefined
          ? await ctx.readModels.memberships.listByOrg(
              orgId,
              { role: req.query.role, q: req.query.q, pending: req.query.pending },
              pageRequest,
            )
          : await ctx.readModels.history.members(
              orgId,
              position,
              { role: req.query.role, q: req.query.q },
              pageRequest,
            );
      return {
        status: 200,
        headers: position === undefined ? undefined : { [POSITION_HEADER]: String(position) },
        body: {
          items: page.items.map(presentOrgUser),
          nextCursor: await bindPageCursor(ctx.cursorDigest, 'listOrgUsers', req, page.nextCursor),
        },
      };
    },
  }),

  defineApiRoute({
    operationId: 'confirmOrgUser',
    method: 'post',
    path: '/orgs/{orgId}/users/{userId}/confirmation',
    summary:
      'Confirm a pending membership (platform admins): the account added by a caller who could not see it takes its roles.',
    tags,
    auth: 'bearer',
    permission: 'users:write',
    request: { params: memberParams, headers: conditionalPostHeaders },
    responses: {
      200: { description: 'The org user, in effect.', schema: orgUserSchema, headers: etagHeader },
      ...errors,
      409: problemResponse('The idempotency key was used with another request.'),
      412: preconditionFailedResponse,
    },
    handler: async (req, ctx) => {
      const { orgId, userId } = req.params;
      // If-Match names the pending membership as the admin reviewed it (GET shows it to platform admins); a
      // replay is answered before it is checked (the confirmation moved the version).
      const command = async () => ({
        type: 'ConfirmMembership' as const,
        orgId,
        userId,
        ...(await orgUserPrecondition(ctx, req, orgId, userId)),
      });
      // The member as they are now; 404 once the membership has ended.
      const answer = async () => orgUserResult(await mustRead(ctx, orgId, userId));
      return executeWrite(ctx, req, principalOf(req.auth), command, answer, {
        provisional: { status: 200, headers: {} },
        // The body shows the member's email and name: kept for replays only sealed under their own key.
        personalDataOf: () => userId,
        represent: answer,
      });
    },
  }),

  defineApiRoute({
    operationId: 'getOrgUser',
    method: 'get',
    path: '/orgs/{orgId}/users/{userId}',
    summary: 'A direct member of an organization (404 for members through inheritance only).',
    tags,
    auth: 'bearer',
    permission: 'users:read',
    request: { params: memberParams, headers: { type: 'object', properties: conditionalReadHeaders } },
    responses: {
      200: { description: 'The org user.', schema: orgUserSchema, headers: etagHeader },
      304: notModifiedResponse,
      ...errors,
      412: preconditionFailedResponse,
    },
    handler: async (req, ctx) => {
      const principal = principalOf(req.auth);
      await ctx.policy.requireOnOrg(principal, 'users:read', req.params.orgId);
      // Platform admins see a pending membership too: they confirm it, If-Match naming what they saw.
      return orgUserResult(
        await requireMember(ctx, req.params.orgId, req.params.userId, ctx.policy.isPlatformAdmin(principal)),
      );
    },
  }),

  defineApiRoute({
    operationId: 'updateOrgUser',
    method: 'patch',
    path: '/orgs/{orgId}/users/{userId}',
    summary: "Change a member's roles or the user's name.",
    tags,
    auth: 'bearer',
    permission: 'users:write',
    request: {
      params: memberParams,
      headers: conditionalWriteHeaders,
      body: {
        schema: Type.Object(
          { roles: Type.Optional(rolesSchema), name: Type.Optional(displayNameSchema()) },
          { title: 'UpdateOrgUserRequest', additionalProperties: false, minProperties: 1 },
        ),
      },
    },
    responses: {
      200: { description: 'The org user as changed.', schema: orgUserSchema, headers: etagHeader },
      ...errors,
      412: preconditionFailedResponse,
    },
    handler: async (req, ctx) => {
      const principal = principalOf(req.auth);
      const { orgId, userId } = req.params;
      return executeWrite(
        ctx,
        req,
        principal,
        {
          type: 'UpdateOrgUser',
          orgId,
          userId,
          roles: req.body.roles,
          name: req.body.name,
          ...(await orgUserPrecondition(ctx, req, orgId, userId)),
        },
        async () => orgUserResult(await mustRead(ctx, orgId, userId)),
      );
    },
  }),

  defineApiRoute({
    operationId: 'removeOrgUser',
    method: 'delete',
    path: '/orgs/{orgId}/users/{userId}',
    summary: 'Remove a member from an organization; the user itself stays.',
    tags,
    auth: 'bearer',
    permission: 'users:write',
    request: { params: memberParams, headers: conditionalWriteHeaders },
    responses: { 204: { description: 'Removed.' }, ...errors, 412: preconditionFailedResponse },
    handler: async (req, ctx) => {
      const principal = principalOf(req.auth);
      const { orgId, userId } = req.params;
      return executeWrite(
        ctx,
        req,
        principal,
        { type: 'RemoveUserFromOrg', orgId, userId, ...(await orgUserPrecondition(ctx, req, orgId, userId)) },
        async () => ({ status: 204 }),
      );
    },
  }),
];
