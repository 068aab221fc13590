import { Type } from '@sinclair/typebox';
import { IamError, PASSWORD_MAX, PASSWORD_MIN } from '@arbor/domain';
import type { Principal } from '@arbor/application';
import { defineRouteFor, problemResponse, type RouteDefinition } from '@arbor/http';
import type { ApiContext } from '../api-context';
import { idSchema } from '../schemas';
import { executeWrite } from '../write-flow';

const defineApiRoute = defineRouteFor<ApiContext>();
const tags = ['Users'];
/** The rules of adding a user (FieldChecks.password): 8 to 1024 characters. */
const passwordSchema = Type.String({ minLength: PASSWORD_MIN, maxLength: PASSWORD_MAX, writeOnly: true });
const errors = {
  400: problemResponse('Invalid input (a password of 8 to 1024 characters is required).'),
  401: problemResponse('Missing or invalid access token.'),
  404: problemResponse('No such user, or not visible to the caller.'),
};
const principalOf = (auth: unknown): Principal => auth as Principal;

/**
 * Passwords (contract section 6). Both writes are events that hold no secret (UserPasswordChanged,
 * UserPasswordSet); the hash goes to the vault. Both answer 204 once the read models hold the write, so the
 * sessions it ended are refused from then on.
 */
export const passwordRoutes: RouteDefinition<ApiContext>[] = [
  defineApiRoute({
    operationId: 'changeCurrentUserPassword',
    method: 'put',
    path: '/users/me/password',
    summary: "Change the calling user's own password; the current one is required.",
    description:
      'A wrong current password is a 403 (IAM_ERR_CURRENT_PASSWORD_INVALID) and counts against the login throttle of the account and source exactly as a failed login does; a throttled attempt is a 429 with Retry-After. Every other session of the user ends: refresh tokens and access tokens of sessions other than the one whose access token made the request stop working at once.',
    tags,
    auth: 'bearer',
    request: {
      body: {
        schema: Type.Object(
          {
            currentPassword: Type.String({ minLength: 1, maxLength: PASSWORD_MAX, writeOnly: true }),
            newPassword: passwordSchema,
          },
          { title: 'PasswordChange', additionalProperties: false },
        ),
      },
    },
    responses: {
      204: { description: 'Changed.' },
      ...errors,
      403: problemResponse('The current password is incorrect.'),
      429: {
        ...problemResponse(
          'Too many failed attempts for this account or from this source; retry after Retry-After seconds.',
        ),
        headers: { 'Retry-After': { description: 'Seconds to wait before trying again.' } },
      },
    },
    handler: async (req, ctx) => {
      const principal = principalOf(req.auth);
      if (principal.type !== 'user') throw new IamError('IAM_ERR_NOT_FOUND', 'The caller is not a user.');
      const { currentPassword, newPassword } = req.body;
      // req.ip honours IAM_TRUSTED_PROXIES: the source the login throttle counts, as for the password grant.
      return executeWrite(
        ctx,
        req,
        principal,
        { type: 'ChangeOwnPassword', userId: principal.id, currentPassword, newPassword, source: req.raw.ip },
        async () => ({
          status: 204,
        }),
      );
    },
  }),

  defineApiRoute({
    operationId: 'setUserPassword',
    method: 'put',
    path: '/users/{userId}/password',
    summary: "Set a user's password (platform admins only); every session of the user ends.",
    description:
      'For a user added without a password, or one who lost theirs. Others: 404 when they may not see the user, 403 when they may.',
    tags,
    auth: 'bearer',
    request: {
      params: Type.Object({ userId: idSchema }, { additionalProperties: false }),
      body: {
        schema: Type.Object({ password: passwordSchema }, { title: 'PasswordSet', additionalProperties: false }),
      },
    },
    responses: { 204: { description: 'Set.' }, ...errors, 403: problemResponse('Only platform admins set passwords.') },
    handler: async (req, ctx) =>
      executeWrite(
        ctx,
        req,
        principalOf(req.auth),
        { type: 'SetUserPassword', userId: req.params.userId, password: req.body.password },
        async () => ({
          status: 204,
        }),
      ),
  }),
];
