import { THROTTLED, readClientCredentials } from '@arbor/application';
import { isIamError } from '@arbor/domain';
import { defineRoute, type HandlerRequest, type HandlerResult, type RouteDefinition } from '@arbor/http';
import type { ApiContext } from '../api-context';

const NO_STORE = { 'Cache-Control': 'no-store', Pragma: 'no-cache' };

const tokenBody = {
  contentTypes: ['application/x-www-form-urlencoded', 'application/json'],
  required: false,
  schema: {
    type: 'object',
    properties: {
      token: { type: 'string' },
      token_type_hint: { type: 'string' },
      client_id: { type: 'string' },
      client_secret: { type: 'string' },
    },
  },
};

const oauthError = (status: number, error: string, description: string, headers: Record<string, string> = {}): HandlerResult => ({
  status,
  body: { error, error_description: description },
  headers: { ...NO_STORE, ...headers },
});

/**
 * Introspection and revocation callers authenticate with a bearer token or with client credentials
 * (RFC 7662 section 2.1); the answer to a failed authentication is an RFC 6749 error, not a problem.
 */
async function authenticateCaller(req: HandlerRequest, ctx: ApiContext): Promise<HandlerResult | undefined> {
  const authorization = req.raw.headers.authorization;
  if (authorization && /^bearer /i.test(authorization)) {
    try {
      await ctx.authenticator.authenticate(authorization);
      return undefined;
    } catch (e) {
      if (isIamError(e) && e.code === 'IAM_ERR_UNAUTHENTICATED')
        return oauthError(401, 'invalid_token', e.message, { 'WWW-Authenticate': 'Bearer realm="arbor", error="invalid_token"' });
      throw e;
    }
  }
  const input = readClientCredentials(authorization, req.body ?? {});
  if (input.kind === 'invalid') return oauthError(400, 'invalid_request', input.description);
  if (input.kind === 'none')
    return oauthError(401, 'invalid_client', 'Authenticate with a bearer token or client credentials.', { 'WWW-Authenticate': 'Bearer realm="arbor"' });
  const check = await ctx.clientAuthenticator.verify(input.clientId, input.clientSecret, req.raw.ip);
  if (check.ok) return undefined;
  if (check.retryAfterSeconds) return oauthError(429, 'slow_down', THROTTLED, { 'Retry-After': String(check.retryAfterSeconds) });
  return oauthError(401, 'invalid_client', 'Client authentication failed.', input.kind === 'basic' ? { 'WWW-Authenticate': 'Basic realm="arbor"' } : {});
}

const errorSchema = {
  type: 'object',
  required: ['error', 'error_description'],
  properties: { error: { type: 'string' }, error_description: { type: 'string' } },
};

export const tokenManagementRoutes: RouteDefinition<ApiContext>[] = [
  defineRoute<ApiContext>({
    operationId: 'introspectToken',
    method: 'post',
    path: '/auth/tokens/introspect',
    summary: 'RFC 7662 token introspection; the caller authenticates with a bearer token or client credentials.',
    tags: ['Auth'],
    auth: 'none',
    request: { body: tokenBody },
    responses: {
      200: {
        description: '`{active: false}` or the token claims.',
        schema: {
          type: 'object',
          required: ['active'],
          properties: {
            active: { type: 'boolean' },
            sub: { type: 'string' },
            scope: { type: 'string' },
            exp: { type: 'integer' },
            iat: { type: 'integer' },
            iss: { type: 'string' },
            token_type: { type: 'string' },
            client_id: { type: 'string' },
            org_id: { type: 'string' },
          },
        },
      },
      400: { description: 'RFC 6749 error.', schema: errorSchema },
      401: { description: 'The caller did not authenticate.', schema: errorSchema },
      429: { description: '`slow_down`: too many failed client authentications; see Retry-After.', schema: errorSchema },
    },
    handler: async (req, ctx) => {
      const refused = await authenticateCaller(req, ctx);
      if (refused) return refused;
      const token = req.body?.token;
      if (typeof token !== 'string' || token === '') return oauthError(400, 'invalid_request', 'token is required.');
      return { status: 200, body: await ctx.introspection.introspect(token), headers: NO_STORE };
    },
  }),

  defineRoute<ApiContext>({
    operationId: 'revokeToken',
    method: 'post',
    path: '/auth/tokens/revoke',
    summary: 'RFC 7009 revocation of an access or refresh token (a refresh token takes its whole family).',
    tags: ['Auth'],
    auth: 'none',
    request: { body: tokenBody },
    responses: {
      200: { description: 'Revoked, or nothing to revoke.' },
      400: { description: 'RFC 6749 error.', schema: errorSchema },
      401: { description: 'The caller did not authenticate.', schema: errorSchema },
      429: { description: '`slow_down`: too many failed client authentications; see Retry-After.', schema: errorSchema },
    },
    handler: async (req, ctx) => {
      const refused = await authenticateCaller(req, ctx);
      if (refused) return refused;
      const token = req.body?.token;
      if (typeof token !== 'string' || token === '') return oauthError(400, 'invalid_request', 'token is required.');
      await ctx.introspection.revoke(token);
      return { status: 200, headers: NO_STORE };
    },
  }),
];
