import { defineRoute, type RouteDefinition } from '@arbor/http';
import type { ApiContext } from '../api-context';

const tokenSuccessSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['access_token', 'token_type', 'expires_in', 'scope'],
  properties: {
    access_token: { type: 'string' },
    token_type: { const: 'Bearer' },
    expires_in: { type: 'integer' },
    scope: { type: 'string' },
    refresh_token: { type: 'string' },
  },
};

const oauthErrorSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['error', 'error_description'],
  properties: { error: { type: 'string' }, error_description: { type: 'string' } },
};

/** Token responses hold credentials: never cached anywhere (RFC 6749 section 5.1). */
const NO_STORE = { 'Cache-Control': 'no-store', Pragma: 'no-cache' };

export const tokenRoutes: RouteDefinition<ApiContext>[] = [
  defineRoute<ApiContext>({
    operationId: 'createToken',
    method: 'post',
    path: '/auth/tokens',
    summary: 'OAuth 2.0 token endpoint (RFC 6749): password, client_credentials and refresh_token grants.',
    description: 'Errors follow RFC 6749 section 5.2 rather than RFC 9457. Unrecognised parameters are ignored, as the RFC asks.',
    tags: ['Auth'],
    auth: 'none',
    request: {
      body: {
        contentTypes: ['application/x-www-form-urlencoded', 'application/json'],
        // A missing body is an RFC 6749 invalid_request, answered by the handler, not a problem document.
        required: false,
        schema: {
          type: 'object',
          properties: {
            grant_type: { type: 'string' },
            username: { type: 'string' },
            password: { type: 'string' },
            scope: { type: 'string' },
            refresh_token: { type: 'string' },
            client_id: { type: 'string' },
            client_secret: { type: 'string' },
          },
        },
      },
    },
    responses: {
      200: { description: 'Tokens issued.', schema: tokenSuccessSchema },
      400: { description: 'RFC 6749 error.', schema: oauthErrorSchema },
      401: { description: 'Client authentication failed.', schema: oauthErrorSchema },
      429: { description: '`slow_down`: throttled (failed attempts, or the password hasher is saturated); see Retry-After.', schema: oauthErrorSchema },
    },
    handler: async (req, ctx) => {
      const result = await ctx.tokenEndpoint.grant(req.body ?? {}, req.raw.headers.authorization, req.raw.ip);
      if (result.ok) return { status: 200, body: result.body, headers: NO_STORE };
      const headers: Record<string, string> = { ...NO_STORE };
      if (result.retryAfterSeconds) headers['Retry-After'] = String(result.retryAfterSeconds);
      if (result.status === 401 && result.basicChallenge) headers['WWW-Authenticate'] = 'Basic realm="arbor"';
      return { status: result.status, body: { error: result.error, error_description: result.description }, headers };
    },
  }),
];
