import { Type } from '@sinclair/typebox';
import { defineRouteFor, oauthErrorBody, oauthErrorResponse, type RouteDefinition } from '@arbor/http';
import type { ApiContext } from '../api-context';
import { requestOriginOf } from '../request-origin';
import { recordGrant } from '../sign-in-recording';

const defineApiRoute = defineRouteFor<ApiContext>();

const tokenSuccessSchema = {
  title: 'TokenResponse',
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

/**
 * What the three OAuth endpoints (token, introspection, revocation) share: every failure is an RFC 6749
 * section 5.2 error, even one the binder raises (bad JSON, a repeated parameter, 405, 413, 415), and no
 * response is ever cached (RFC 6749 section 5.1; RFC 7662 and RFC 7009 answers describe credentials too).
 */
export const OAUTH_ENDPOINT = {
  errorFormat: 'oauth2',
  responseHeaders: { 'Cache-Control': 'no-store', Pragma: 'no-cache' },
} as const;

/** The errors every OAuth endpoint may answer, besides its own. */
export const OAUTH_ENDPOINT_ERRORS = {
  400: oauthErrorResponse(
    'RFC 6749 error: invalid_request (malformed, non-string, repeated or missing parameters), or the endpoint’s own.',
  ),
  401: oauthErrorResponse('invalid_client: client authentication failed.'),
  413: oauthErrorResponse('invalid_request: the body exceeds 64 KiB.'),
  415: oauthErrorResponse(
    'invalid_request: the body is neither application/x-www-form-urlencoded nor application/json.',
  ),
  429: {
    ...oauthErrorResponse(
      'slow_down: throttled (failed attempts, or the password hasher is saturated); see Retry-After.',
    ),
    headers: { 'Retry-After': { description: 'Seconds to wait before trying again.' } },
  },
};

/**
 * Any other parameter is ignored (RFC 6749 section 3.2), but, like every parameter but `resource`, it is a
 * single value: a repeated one is an `invalid_request`.
 */
export const oauthExtraParameterSchema = Type.Unsafe<string | number | boolean | null>({
  type: ['string', 'number', 'boolean', 'null'],
});

/** RFC 8707 resource indicators: one URI, or several (the only parameter that may repeat). */
export const resourceParameterSchema = Type.Unsafe<string | string[]>({
  type: ['string', 'array'],
  items: { type: 'string' },
});

export const tokenRoutes: RouteDefinition<ApiContext>[] = [
  defineApiRoute({
    operationId: 'createToken',
    method: 'post',
    path: '/auth/tokens',
    summary: 'OAuth 2.0 token endpoint (RFC 6749): password, client_credentials and refresh_token grants.',
    description:
      'Errors follow RFC 6749 section 5.2 rather than RFC 9457, also for malformed requests. Unrecognised parameters are ignored, as the RFC asks; no parameter may repeat but `resource` (RFC 8707).',
    tags: ['Auth'],
    auth: 'none',
    // client_secret_basic, or client_secret_post / the first-party public client (nothing in a header).
    security: [{ clientBasic: [] }, {}],
    ...OAUTH_ENDPOINT,
    request: {
      body: {
        contentTypes: ['application/x-www-form-urlencoded', 'application/json'],
        repeatable: ['resource'],
        // Open (RFC 6749 section 3.2: unrecognized parameters are ignored); which others a grant needs, the
        // handler checks, so that an unknown grant_type is `unsupported_grant_type`, not `invalid_request`.
        schema: Type.Object(
          {
            grant_type: Type.String({
              minLength: 1,
              description: '`password`, `client_credentials` or `refresh_token`.',
            }),
            username: Type.Optional(Type.String()),
            password: Type.Optional(Type.String()),
            scope: Type.Optional(Type.String()),
            refresh_token: Type.Optional(Type.String()),
            client_id: Type.Optional(Type.String()),
            client_secret: Type.Optional(Type.String()),
            resource: Type.Optional(resourceParameterSchema),
            org_id: Type.Optional(
              Type.String({
                description:
                  'password and client_credentials grants: one organization; the token then carries `org_id`, `roles` (RFC 9068 section 2.2.3.1) and `permissions` there. Unknown or out of reach: `invalid_request`.',
              }),
            ),
          },
          { title: 'TokenRequest', additionalProperties: oauthExtraParameterSchema },
        ),
      },
    },
    responses: {
      200: { description: 'Tokens issued.', schema: tokenSuccessSchema },
      ...OAUTH_ENDPOINT_ERRORS,
    },
    handler: async (req, ctx) => {
      const result = await ctx.tokenEndpoint.grant(req.body ?? {}, req.raw.headers.authorization, req.raw.ip);
      // Recorded once the answer is on its way: the lookups and sealing a known account's record costs must not make
      // its refusal slower than an unknown username's (token-endpoint.ts keeps the two alike: no account probing).
      const origin = requestOriginOf(req.raw);
      const authorization = req.raw.headers.authorization;
      setImmediate(() => void recordGrant(ctx, req.body ?? {}, authorization, result, origin).catch(() => undefined));
      if (result.ok) return { status: 200, body: result.body };
      const headers: Record<string, string> = {};
      if (result.retryAfterSeconds) headers['Retry-After'] = String(result.retryAfterSeconds);
      if (result.status === 401 && result.basicChallenge) headers['WWW-Authenticate'] = 'Basic realm="arbor"';
      return { status: result.status, body: oauthErrorBody(result.error, result.description), headers };
    },
  }),
];
