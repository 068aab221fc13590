import { Type, type Static } from '@sinclair/typebox';
import {
  FIRST_PARTY_CLIENT_ID,
  PUBLIC_CALLER,
  callerOfClient,
  callerOfPrincipal,
  readClientCredentials,
  THROTTLED,
  type TokenCaller,
} from '@arbor/application';
import { isIamError } from '@arbor/domain';
import {
  defineRouteFor,
  oauthErrorBody,
  type HandlerRequest,
  type HandlerResult,
  type RouteDefinition,
} from '@arbor/http';
import type { ApiContext } from '../api-context';
import { requestOriginOf } from '../request-origin';
import { recordClientRefusal, recordRevocation } from '../sign-in-recording';
import { OAUTH_ENDPOINT, OAUTH_ENDPOINT_ERRORS, oauthExtraParameterSchema } from './token-routes';

const defineApiRoute = defineRouteFor<ApiContext>();

const tokenBody = {
  contentTypes: ['application/x-www-form-urlencoded', 'application/json'],
  schema: Type.Object(
    {
      token: Type.String({ minLength: 1 }),
      token_type_hint: Type.Optional(Type.String()),
      client_id: Type.Optional(Type.String()),
      client_secret: Type.Optional(Type.String()),
    },
    { title: 'TokenManagementRequest', additionalProperties: oauthExtraParameterSchema },
  ),
};

const oauthError = (
  status: number,
  error: string,
  description: string,
  headers: Record<string, string> = {},
): HandlerResult => ({
  status,
  body: oauthErrorBody(error, description),
  headers,
});

/**
 * Who calls introspection or revocation: a bearer token (a user's or a client's), client credentials
 * (RFC 7662 section 2.1), or, for revocation only, nobody but the first-party public client holding a
 * refresh token (RFC 7009 section 2.1: a public client's tokens are revoked by possession). A failed
 * authentication is an RFC 6749 error, not a problem. A refused client authentication (a client id named, with a
 * wrong secret or none, or throttled) goes to the sign-in audit as `kind`, once the answer is on its way: recording
 * it (an organization lookup) must not make a known client's refusal slower than an unknown one's.
 */
async function authenticateCaller(
  req: HandlerRequest<unknown, unknown, Static<typeof tokenBody.schema>>,
  ctx: ApiContext,
  kind: 'introspection' | 'revocation',
): Promise<TokenCaller | HandlerResult> {
  const allowPublic = kind === 'revocation';
  const refused = (clientId: string, throttled: boolean, result: HandlerResult): HandlerResult => {
    const origin = requestOriginOf(req.raw);
    setImmediate(() => void recordClientRefusal(ctx, kind, clientId, throttled, origin).catch(() => undefined));
    return result;
  };
  const authorization = req.raw.headers.authorization;
  if (authorization && /^bearer /i.test(authorization)) {
    // One authentication method per request (RFC 6749 section 2.3): a body secret beside a bearer token would be
    // left unchecked (and a wrong one uncounted by the throttle), as Basic beside one is refused.
    if (req.body?.client_secret !== undefined)
      return oauthError(400, 'invalid_request', 'Use one client authentication method, not two.');
    try {
      const principal = await ctx.authenticator.authenticate(authorization);
      // A body client_id only identifies; beside a bearer token it must name the token's own client, as beside
      // HTTP Basic it must name the authenticated one.
      const tokenClientId = principal.type === 'client' ? principal.clientId : FIRST_PARTY_CLIENT_ID;
      if (req.body?.client_id !== undefined && req.body.client_id !== tokenClientId)
        return oauthError(400, 'invalid_request', 'The body client_id names another client than the bearer token.');
      return callerOfPrincipal(principal);
    } catch (e) {
      if (isIamError(e) && e.code === 'IAM_ERR_UNAUTHENTICATED')
        return oauthError(401, 'invalid_token', e.message, {
          'WWW-Authenticate': 'Bearer realm="arbor", error="invalid_token"',
        });
      throw e;
    }
  }
  const input = readClientCredentials(authorization, req.body ?? {});
  if (input.kind === 'invalid') return oauthError(400, 'invalid_request', input.description);
  const challenge = { 'WWW-Authenticate': 'Bearer realm="arbor"' };
  if (input.kind === 'none' || input.kind === 'public') {
    if (allowPublic && (input.kind === 'none' || input.clientId === FIRST_PARTY_CLIENT_ID)) return PUBLIC_CALLER;
    const result = oauthError(
      401,
      'invalid_client',
      'Authenticate with a bearer token or client credentials.',
      challenge,
    );
    // A client id without a secret is a client authenticating (and refused); no credential at all is not.
    return input.kind === 'public' ? refused(input.clientId, false, result) : result;
  }
  const check = await ctx.clientAuthenticator.verify(input.clientId, input.clientSecret, req.raw.ip);
  if (check.ok) return callerOfClient(check.client);
  if (check.retryAfterSeconds)
    return refused(
      input.clientId,
      true,
      oauthError(429, 'slow_down', THROTTLED, { 'Retry-After': String(check.retryAfterSeconds) }),
    );
  return refused(
    input.clientId,
    false,
    oauthError(
      401,
      'invalid_client',
      'Client authentication failed.',
      input.kind === 'basic' ? { 'WWW-Authenticate': 'Basic realm="arbor"' } : {},
    ),
  );
}

const isCaller = (value: TokenCaller | HandlerResult): value is TokenCaller => !('status' in value);

const introspectionSchema = {
  title: 'IntrospectionResponse',
  type: 'object',
  required: ['active'],
  properties: {
    active: { type: 'boolean' },
    sub: { type: 'string' },
    scope: { type: 'string' },
    exp: { type: 'integer' },
    iat: { type: 'integer' },
    iss: { type: 'string' },
    token_type: { type: 'string', enum: ['Bearer', 'refresh_token'] },
    client_id: { type: 'string' },
    aud: { oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }] },
    org_id: { type: 'string' },
    roles: { type: 'array', items: { type: 'string' } },
    permissions: { type: 'array', items: { type: 'string' } },
  },
};

export const tokenManagementRoutes: RouteDefinition<ApiContext>[] = [
  defineApiRoute({
    operationId: 'introspectToken',
    method: 'post',
    path: '/auth/tokens/introspect',
    summary: 'RFC 7662 token introspection; the caller authenticates with a bearer token or client credentials.',
    description:
      'Callers holding `tokens:introspect` (resource servers, platform admins) get the full answer about any token; anyone else about their own tokens only, and `{active: false}` for every other token.',
    tags: ['Auth'],
    auth: 'none',
    // A bearer token, client_secret_basic, or client_secret_post (nothing in a header).
    security: [{ bearerAuth: [] }, { clientBasic: [] }, {}],
    ...OAUTH_ENDPOINT,
    request: { body: tokenBody },
    responses: {
      200: { description: '`{active: false}` or the token claims.', schema: introspectionSchema },
      ...OAUTH_ENDPOINT_ERRORS,
    },
    handler: async (req, ctx) => {
      const caller = await authenticateCaller(req, ctx, 'introspection');
      if (!isCaller(caller)) return caller;
      const token = req.body?.token;
      if (typeof token !== 'string' || token === '') return oauthError(400, 'invalid_request', 'token is required.');
      return { status: 200, body: await ctx.introspection.introspect(token, caller) };
    },
  }),

  defineApiRoute({
    operationId: 'revokeToken',
    method: 'post',
    path: '/auth/tokens/revoke',
    summary: 'RFC 7009 revocation of an access or refresh token (a refresh token takes its whole family).',
    description:
      'Only the caller’s own tokens, or any token for a platform admin; another’s active token is refused with `invalid_grant`. A refresh token may be revoked without authentication (the first-party public client), an access token needs a bearer token or client credentials.',
    tags: ['Auth'],
    auth: 'none',
    // A bearer token, client_secret_basic, client_secret_post, or none (a refresh token, by possession).
    security: [{ bearerAuth: [] }, { clientBasic: [] }, {}],
    ...OAUTH_ENDPOINT,
    request: { body: tokenBody },
    responses: {
      200: { description: 'Revoked, or nothing to revoke.' },
      ...OAUTH_ENDPOINT_ERRORS,
    },
    handler: async (req, ctx) => {
      const caller = await authenticateCaller(req, ctx, 'revocation');
      if (!isCaller(caller)) return caller;
      const token = req.body?.token;
      if (typeof token !== 'string' || token === '') return oauthError(400, 'invalid_request', 'token is required.');
      const result = await ctx.introspection.revoke(token, caller);
      // Recorded after the answer, as grants are (token-routes.ts).
      const origin = requestOriginOf(req.raw);
      setImmediate(() => void recordRevocation(ctx, caller, result, origin).catch(() => undefined));
      if (result.ok) return { status: 200 };
      return result.error === 'invalid_client'
        ? oauthError(401, result.error, result.description, { 'WWW-Authenticate': 'Bearer realm="arbor"' })
        : oauthError(400, result.error, result.description);
    },
  }),
];
