import { buildOpenApiDocument, defineRoute, type RouteDefinition } from '@arbor/http';
import type { ApiContext } from '../api-context';

/**
 * `GET /api/v1/openapi.json`, generated from the very route declarations the server binds, so the document
 * cannot drift from what runs. Like every /api/v1 route but the token endpoint, it needs a bearer token.
 */
export function openApiRoute(allRoutes: () => RouteDefinition<ApiContext>[], version: string): RouteDefinition<ApiContext> {
  let document: object | undefined;
  return defineRoute<ApiContext>({
    operationId: 'getOpenApiDocument',
    method: 'get',
    path: '/openapi.json',
    summary: 'This API as an OpenAPI 3.1 document.',
    tags: ['Meta'],
    auth: 'bearer',
    responses: { 200: { description: 'The OpenAPI document.', schema: { type: 'object' } } },
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
