import { buildOpenApiDocument, defineRouteFor, type OpenApiDocument, type RouteDefinition } from '@arbor/http';
import type { ApiContext } from '../api-context';

/** What each tag of the API groups, for readers of the document and of `/api/v1/docs`. */
export const TAG_DESCRIPTIONS: Record<string, string> = {
  Auth: 'OAuth 2.0 token endpoint (RFC 6749), introspection (RFC 7662) and revocation (RFC 7009).',
  Organizations: 'The organization tree: create, read, rename, move and delete organizations.',
  'Organization users': 'Memberships: who belongs to an organization, with which roles.',
  Users: 'User accounts: their own profile, and what administrators may see and change.',
  'Client credentials': 'OAuth clients of an organization (client_credentials grant).',
  'Roles and permissions':
    'Custom roles and application permissions an organization defines for its subtree (contract section 4.1).',
  Events: 'The event log, as far as the caller may read it.',
  Audit: 'Audit retention per organization and the sign-in audit (contract section 8).',
  Webhooks:
    'Subscriptions that deliver the events of an organization subtree to a URL, signed per Standard Webhooks, and their delivery log (contract section 10).',
  Meta: 'This API’s own description.',
  'Access decisions':
    'The OpenID AuthZEN Authorization API 1.0 at /access/v1: who may do what on which organization (contract section 9).',
};

const OPEN_API_DOCUMENT_SCHEMA = {
  title: 'OpenApiDocument',
  type: 'object',
  required: ['openapi', 'info', 'paths'],
  properties: { openapi: { type: 'string' }, info: { type: 'object' }, paths: { type: 'object' } },
};

/**
 * The document `GET /api/v1/openapi.json` serves, for `routes` served under `<serverUrl>/api/v1` and
 * `accessRoutes` (the AuthZEN API) under `<serverUrl>/access/v1`.
 */
export const describeApi = (
  routes: readonly RouteDefinition<ApiContext>[],
  version: string,
  serverUrl: string,
  accessRoutes: readonly RouteDefinition<ApiContext>[] = [],
): OpenApiDocument =>
  buildOpenApiDocument(routes as readonly RouteDefinition<never>[], {
    title: 'Arbor Identity & Access API',
    version,
    description: 'Organizations, users, roles and OAuth2 tokens, backed by an event log.',
    basePath: '/api/v1',
    serverUrl,
    license: { name: 'Apache 2.0', identifier: 'Apache-2.0' },
    tagDescriptions: TAG_DESCRIPTIONS,
    otherBases: [{ basePath: '/access/v1', routes: accessRoutes as readonly RouteDefinition<never>[] }],
  });

/**
 * `GET /api/v1/openapi.json`, generated from the very route declarations the server binds, so the document
 * cannot drift from what runs. Public, like the discovery documents: Swagger UI (`/api/v1/docs`), code
 * generators and browser apps on any origin (`Access-Control-Allow-Origin: *`) load it without a token; it
 * describes the API, never anyone's data.
 */
export function openApiRoute(
  allRoutes: () => RouteDefinition<ApiContext>[],
  version: string,
  accessRoutes: () => readonly RouteDefinition<ApiContext>[] = () => [],
): RouteDefinition<ApiContext> {
  let document: object | undefined;
  return defineRouteFor<ApiContext>()({
    operationId: 'getOpenApiDocument',
    method: 'get',
    path: '/openapi.json',
    summary: 'This API as an OpenAPI 3.1 document.',
    tags: ['Meta'],
    auth: 'none',
    responseHeaders: { 'Access-Control-Allow-Origin': '*', 'Cache-Control': 'public, max-age=300' },
    responses: { 200: { description: 'The OpenAPI document.', schema: OPEN_API_DOCUMENT_SCHEMA } },
    handler: async (_req, ctx) => {
      document ??= describeApi(allRoutes(), version, ctx.issuer, accessRoutes());
      return { status: 200, body: document };
    },
  });
}
