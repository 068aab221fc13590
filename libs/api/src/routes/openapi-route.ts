import { buildOpenApiDocument, defineRoute, type RouteDefinition } from '@arbor/http';
import type { ApiContext } from '../api-context';

/**
 * `GET /api/v1/openapi.json`, generated from the very route declarations the server binds, so the document
 * cannot drift from what runs. Public, like the discovery documents: Swagger UI (`/api/v1/docs`), code
 * generators and browser apps on any origin (`Access-Control-Allow-Origin: *`) load it without a token; it
 * describes the API, never anyone's data.
 */
export function openApiRoute(allRoutes: () => RouteDefinition<ApiContext>[], version: string): RouteDefinition<ApiContext> {
  let document: object | undefined;
  return defineRoute<ApiContext>({
    operationId: 'getOpenApiDocument',
    method: 'get',
    path: '/openapi.json',
    summary: 'This API as an OpenAPI 3.1 document.',
    tags: ['Meta'],
    auth: 'none',
    responseHeaders: { 'Access-Control-Allow-Origin': '*', 'Cache-Control': 'public, max-age=300' },
    responses: { 200: { description: 'The OpenAPI document.', schema: { title: 'OpenApiDocument', type: 'object', required: ['openapi', 'info', 'paths'] } } },
    handler: async (_req, ctx) => {
      document ??= buildOpenApiDocument(allRoutes(), {
        title: 'Arbor Identity & Access API',
        version,
        description: 'Organizations, users, roles and OAuth2 tokens, backed by an event log.',
        basePath: '/api/v1',
        serverUrl: ctx.issuer,
      });
      return { status: 200, body: document };
    },
  });
}
