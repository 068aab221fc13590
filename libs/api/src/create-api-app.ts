import express, { type Express, type Request } from 'express';
import v8 from 'node:v8';
import { isIamError, PERMISSIONS } from '@arbor/domain';
import {
  bindRoutes,
  errorHandler,
  type BindRoutesOptions,
  HttpProblem,
  notFoundHandler,
  type RouteDefinition,
} from '@arbor/http';
import type { ApiContext } from './api-context';
import { apiDocsRouter } from './api-docs';
import { apiCors, publicCors } from './cors';
import { mapError, problemTitle } from './problem-mapping';
import { accessSearchRoutes } from './routes/access-search-routes';
import { eventRoutes } from './routes/event-routes';
import { openApiRoute } from './routes/openapi-route';
import { orgRoutes } from './routes/org-routes';
import { auditRetentionRoutes } from './routes/audit-retention-routes';
import { signInRoutes } from './routes/sign-in-routes';
import { clientRoutes } from './routes/client-routes';
import { webhookDeliveryRoutes } from './routes/webhook-delivery-routes';
import { webhookRoutes } from './routes/webhook-routes';
import { permissionRoutes } from './routes/permission-routes';
import { roleRoutes } from './routes/role-routes';
import { orgUserRoutes } from './routes/org-user-routes';
import { tokenManagementRoutes } from './routes/token-management-routes';
import { tokenRoutes } from './routes/token-routes';
import { userRoutes } from './routes/user-routes';
import { passwordRoutes } from './routes/password-routes';
import { ACCESS_PREFIX, accessEvaluationRoutes } from './routes/access-evaluation-routes';
import { WELL_FORMED_REQUEST_ID } from './request-origin';

export const API_VERSION = '1.0.0';

export interface ApiAppOptions {
  /** Check every response body against its declared schema (tests turn this on; it costs time). */
  validateResponses?: boolean;
  /**
   * Benchmark-only routes (`GET /__bench/empty`, answering `{}` through plain express, no auth: the floor
   * that `npm run bench` compares every endpoint with; `GET /__bench/memory`: `process.memoryUsage()`). Off by default; only IAM_BENCH_ROUTES=true turns it on.
   */
  benchRoutes?: boolean;
  /**
   * Proxies whose `X-Forwarded-For` names the client (express `trust proxy`; see parseTrustedProxies), so
   * that `req.ip`, the source login throttling counts, is the client's address. Empty: the socket's peer.
   */
  trustedProxies?: string[];
  /**
   * Browser origins whose scripts may call `/api/v1` (IAM_CORS_ORIGINS, see parseCorsOrigins); none by
   * default. The discovery documents, the JWKS and the OpenAPI document allow every origin regardless.
   */
  corsOrigins?: string[];
}

/** Every `/api/v1` route, in the order they are bound and documented. */
export function apiRoutes(): RouteDefinition<ApiContext>[] {
  const routes: RouteDefinition<ApiContext>[] = [
    ...tokenRoutes,
    ...tokenManagementRoutes,
    ...orgRoutes,
    ...orgUserRoutes,
    ...userRoutes,
    ...passwordRoutes,
    ...clientRoutes,
    ...webhookRoutes,
    ...webhookDeliveryRoutes,
    ...roleRoutes,
    ...permissionRoutes,
    ...eventRoutes,
    ...auditRetentionRoutes,
    ...signInRoutes,
  ];
  routes.push(openApiRoute(() => routes, API_VERSION, accessRoutes));
  return routes;
}

/** Every `/access/v1` route (the AuthZEN API, contract section 9), documented in the same OpenAPI document. */
export function accessRoutes(): RouteDefinition<ApiContext>[] {
  return [...accessEvaluationRoutes, ...accessSearchRoutes];
}

/** The gateway's HTTP surface: health, discovery documents and the `/api/v1` routes. */
export function createApiApp(ctx: ApiContext, options: ApiAppOptions = {}): Express {
  const app = express();
  app.disable('x-powered-by');
  // Our ETags are resource versions; express must not add its own content hashes.
  app.set('etag', false);
  app.set('trust proxy', options.trustedProxies && options.trustedProxies.length > 0 ? options.trustedProxies : false);

  const cors = apiCors(options.corsOrigins ?? []);
  if (cors !== undefined) app.use('/api/v1', cors);
  // Then API requests, nearly all of the traffic, skip the layers below; the access decision API (AuthZEN 1.0) at
  // its specification's default paths, beside /api/v1, shares their one Express layer (a layer costs an
  // evaluation a few percent of its time: README "Access decisions").
  const common: Omit<BindRoutesOptions<ApiContext>, 'prefix'> = {
    ctx,
    authenticate: (req: Request) => authenticate(ctx, req),
    mapError,
    validateResponses: options.validateResponses ?? false,
    log: (message, fields) => ctx.log.error(message, fields),
  };
  const api = bindRoutes(apiRoutes(), { ...common, prefix: '/api/v1' });
  const access = bindRoutes(accessRoutes(), { ...common, prefix: ACCESS_PREFIX });
  app.use((req, res, next) =>
    api(req, res, () => {
      // AuthZEN section 10.1.3: the request's X-Request-ID comes back on every answer, failures included (the
      // routes' answers set it too); 1-200 visible ASCII characters, as the audit records it (contract section 9).
      const requestId = req.headers['x-request-id'];
      if (
        typeof requestId === 'string' &&
        WELL_FORMED_REQUEST_ID.test(requestId) &&
        req.url.toLowerCase().startsWith(ACCESS_PREFIX)
      )
        res.setHeader('X-Request-ID', requestId);
      access(req, res, next);
    }),
  );
  app.use(apiDocsRouter());
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', async (_req, res) => {
    const readiness = await ctx.readiness().catch((e) => ({ ready: false, checks: { readiness: String(e) } }));
    res
      .status(readiness.ready ? 200 : 503)
      .json({ status: readiness.ready ? 'ready' : 'not ready', checks: readiness.checks });
  });

  if (options.benchRoutes === true) {
    app.get('/__bench/empty', (_req, res) => {
      res.json({});
    });
    // Where the resident memory is (V8 heap, Buffers, the rest: SQLite caches, code, allocator slack).
    app.get('/__bench/memory', (_req, res) => {
      res.json({ ...process.memoryUsage(), heapSpaces: v8.getHeapSpaceStatistics() });
    });
  }

  // Public documents: any origin may read them (publicCors), and answer its preflight.
  app.options(
    ['/.well-known/jwks.json', '/.well-known/oauth-authorization-server', '/.well-known/authzen-configuration'],
    publicCors,
  );
  app.get('/.well-known/jwks.json', publicCors, (_req, res) => {
    res.set('Cache-Control', 'public, max-age=300').json(ctx.keys.jwks());
  });
  app.get('/.well-known/oauth-authorization-server', publicCors, (_req, res) => {
    res.set('Cache-Control', 'public, max-age=300').json(authorizationServerMetadata(ctx.issuer));
  });

  app.get('/.well-known/authzen-configuration', publicCors, (_req, res) => {
    res.set('Cache-Control', 'public, max-age=300').json(authzenConfiguration(ctx.issuer));
  });

  app.use(notFoundHandler());
  app.use(errorHandler(mapError, (message, fields) => ctx.log.error(message, fields)));
  return app;
}

/** RFC 6750 section 3: say `invalid_token` only when a token was presented. */
async function authenticate(ctx: ApiContext, req: Request): Promise<unknown> {
  const header = req.headers.authorization;
  try {
    return await ctx.authenticator.authenticate(header);
  } catch (e) {
    if (!isIamError(e) || e.code !== 'IAM_ERR_UNAUTHENTICATED') throw e;
    const challenge = header
      ? `Bearer realm="arbor", error="invalid_token", error_description="${e.message.replace(/"/g, "'")}"`
      : 'Bearer realm="arbor"';
    throw new HttpProblem(401, e.code, problemTitle(e.code), e.message, undefined, { 'WWW-Authenticate': challenge });
  }
}

/**
 * Where a client discovers this authorization server (RFC 8414 section 3): `<issuer>/.well-known/oauth-authorization-server`.
 * The issuer is fixed by configuration (IAM_ISSUER), never taken from a request's Host: tokens carry it as
 * `iss`, and a client compares the metadata's `issuer` with the URL it discovered through (RFC 8414 section
 * 3.3), so clients must reach Arbor at exactly this URL. Start-up logs it for that reason.
 */
export function discoveryUrl(issuer: string): string {
  return `${issuer}/.well-known/oauth-authorization-server`;
}

/**
 * RFC 8414 metadata, saying what the endpoints really accept. The token endpoint takes client credentials,
 * or none from the first-party public client (password and refresh grants). Introspection and revocation take client
 * credentials or a bearer access token (RFC 8414 section 2 allows access token types such as `Bearer` in
 * these lists); revocation also `none`: the first-party public client revokes a refresh token by
 * possession. The service documentation is the API reference page (`/api/v1/docs`, rendering the public
 * OpenAPI document `/api/v1/openapi.json`).
 */
export function authorizationServerMetadata(issuer: string): Record<string, unknown> {
  return {
    issuer,
    token_endpoint: `${issuer}/api/v1/auth/tokens`,
    introspection_endpoint: `${issuer}/api/v1/auth/tokens/introspect`,
    revocation_endpoint: `${issuer}/api/v1/auth/tokens/revoke`,
    jwks_uri: `${issuer}/.well-known/jwks.json`,
    grant_types_supported: ['password', 'client_credentials', 'refresh_token'],
    token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'none'],
    introspection_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'Bearer'],
    revocation_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'Bearer', 'none'],
    scopes_supported: [...PERMISSIONS],
    response_types_supported: [],
    service_documentation: `${issuer}/api/v1/docs`,
  };
}

/**
 * The Policy Decision Point metadata of the access decision API (OpenID AuthZEN Authorization API 1.0 section
 * 9, `/.well-known/authzen-configuration`): the PDP identifier is the issuer, the endpoints those Arbor serves.
 */
export function authzenConfiguration(issuer: string): Record<string, unknown> {
  return {
    policy_decision_point: issuer,
    access_evaluation_endpoint: `${issuer}${ACCESS_PREFIX}/evaluation`,
    access_evaluations_endpoint: `${issuer}${ACCESS_PREFIX}/evaluations`,
    search_subject_endpoint: `${issuer}${ACCESS_PREFIX}/search/subject`,
    search_resource_endpoint: `${issuer}${ACCESS_PREFIX}/search/resource`,
    search_action_endpoint: `${issuer}${ACCESS_PREFIX}/search/action`,
  };
}
