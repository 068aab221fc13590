import { sharedSchemas } from './problem-schema';
import type { JsonSchema, RouteDefinition } from './route-definition';
import { pathParamNames } from './path-param-names';
import { PATH_CONVENTIONS, SchemaNames, withStandardFailures } from './open-api-components';

export interface OpenApiInfo {
  title: string;
  version: string;
  description?: string;
  /** Prefix of every route path, e.g. `/api/v1`; the routes' router is expected to be mounted there. */
  basePath: string;
  /** Origin the API is served from (without the base path), emitted as the single `servers` entry. */
  serverUrl?: string;
  /** SPDX license of the API description (`info.license`). */
  license?: { name: string; identifier: string };
  /** A description per tag the routes use (`tags[].description`); tags without one are listed bare. */
  tagDescriptions?: Record<string, string>;
  /**
   * Routes mounted under another prefix than `basePath` (e.g. the AuthZEN API at `/access/v1`), documented in
   * the same document with their full paths.
   */
  otherBases?: ReadonlyArray<{ basePath: string; routes: readonly RouteDefinition<never>[] }>;
  /** Path items added verbatim (keys are full paths), for endpoints not defined as routes. */
  extraPaths?: Record<string, Record<string, unknown>>;
}

export type OpenApiDocument = Record<string, unknown> & {
  openapi: '3.1.0';
  paths: Record<string, Record<string, unknown>>;
};

/**
 * Renders route definitions as an OpenAPI 3.1 document. Route schemas are JSON Schema 2020-12 already, so
 * they are emitted as written; the document and the binder's validators can never disagree. Schemas with a
 * `title` become named `components.schemas` (SchemaNames); every operation also lists the failures any
 * route of its kind may answer (withStandardFailures), and the description the 405 that every path answers
 * for a method it does not define.
 */
// `never` accepts routes of any context type: the document never calls a handler.
export const buildOpenApiDocument = (routes: readonly RouteDefinition<never>[], info: OpenApiInfo): OpenApiDocument => {
  const base = info.basePath.replace(/\/+$/, '');
  const paths: Record<string, Record<string, unknown>> = {};
  const operationIds = new Set<string>();
  const tags: string[] = [];
  const names = new SchemaNames(sharedSchemas);

  const groups = [
    { base, routes },
    ...(info.otherBases ?? []).map((g) => ({ base: g.basePath.replace(/\/+$/, ''), routes: g.routes })),
  ];
  for (const { base, routes } of groups)
    for (const route of routes) {
      if (operationIds.has(route.operationId)) throw new Error(`Duplicate operationId '${route.operationId}'`);
      operationIds.add(route.operationId);
      const key = route.path === '/' && base !== '' ? base : base + route.path;
      const item = (paths[key] ??= {});
      if (item[route.method] !== undefined) throw new Error(`Duplicate operation ${route.method.toUpperCase()} ${key}`);
      item[route.method] = names.walk(operation(route));
      for (const tag of route.tags ?? []) if (!tags.includes(tag)) tags.push(tag);
    }
  for (const [key, item] of Object.entries(info.extraPaths ?? {})) paths[key] = { ...paths[key], ...item };

  const doc: OpenApiDocument = {
    openapi: '3.1.0',
    info: {
      title: info.title,
      version: info.version,
      description: info.description === undefined ? PATH_CONVENTIONS : `${info.description}\n\n${PATH_CONVENTIONS}`,
    },
    paths,
  };
  if (info.serverUrl !== undefined) doc.servers = [{ url: info.serverUrl }];
  if (info.license !== undefined) (doc.info as Record<string, unknown>).license = info.license;
  if (tags.length > 0)
    doc.tags = tags.map((name) => {
      const description = info.tagDescriptions?.[name];
      return description === undefined ? { name } : { name, description };
    });
  doc.components = {
    securitySchemes: {
      bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
      clientBasic: {
        type: 'http',
        scheme: 'basic',
        description: 'OAuth client credentials, RFC 6749 section 2.3.1 (client_secret_basic).',
      },
    },
    schemas: names.schemas,
  };
  return doc;
};

const operation = (route: RouteDefinition<never>): Record<string, unknown> => {
  const op: Record<string, unknown> = { operationId: route.operationId, summary: route.summary };
  if (route.description !== undefined) op.description = route.description;
  if (route.tags !== undefined && route.tags.length > 0) op.tags = route.tags;

  const parameters = [
    ...pathParameters(route),
    ...parametersOf(route.request?.query, 'query'),
    ...parametersOf(route.request?.headers, 'header'),
  ];
  if (parameters.length > 0) op.parameters = parameters;

  const body = route.request?.body;
  if (body !== undefined) {
    const content: Record<string, unknown> = {};
    for (const type of body.contentTypes ?? ['application/json']) content[type] = { schema: body.schema };
    op.requestBody = { required: body.required ?? true, content };
  }

  const responses: Record<string, unknown> = {};
  for (const [status, spec] of Object.entries(route.responses)) {
    const response: Record<string, unknown> = { description: spec.description };
    if (spec.headers !== undefined) {
      const headers: Record<string, unknown> = {};
      for (const [name, h] of Object.entries(spec.headers)) {
        headers[name] = { description: h.description, schema: h.schema ?? { type: 'string' } };
      }
      response.headers = headers;
    }
    if (spec.schema !== undefined)
      response.content = { [spec.contentType ?? 'application/json']: { schema: spec.schema } };
    if (spec.links !== undefined) response.links = spec.links;
    responses[status] = response;
  }
  op.responses = withStandardFailures(route, responses);

  op.security = route.auth === 'bearer' ? [{ bearerAuth: [] }] : (route.security ?? []);
  if (route.permission !== undefined) op['x-permission'] = route.permission;
  return op;
};

/** Every templated segment must be declared (OpenAPI requires it), typed by the params schema when it says so. */
const pathParameters = (route: RouteDefinition<never>): Record<string, unknown>[] => {
  const properties = propertiesOf(route.request?.params);
  return pathParamNames(route.path).map((name) =>
    parameter(name, 'path', true, properties[name] ?? { type: 'string' }),
  );
};

/** OpenAPI ignores header parameters that HTTP itself governs; documenting them would be misleading. */
const RESERVED_HEADERS = new Set(['accept', 'content-type', 'authorization']);

const parametersOf = (schema: JsonSchema | undefined, location: 'query' | 'header'): Record<string, unknown>[] => {
  if (schema === undefined) return [];
  const required = new Set(Array.isArray(schema.required) ? (schema.required as string[]) : []);
  return Object.entries(propertiesOf(schema))
    .filter(([name]) => location !== 'header' || !RESERVED_HEADERS.has(name.toLowerCase()))
    .map(([name, property]) => parameter(name, location, required.has(name), property));
};

const parameter = (name: string, location: string, required: boolean, schema: JsonSchema): Record<string, unknown> => {
  const p: Record<string, unknown> = { name, in: location, required, schema };
  if (typeof schema.description === 'string') p.description = schema.description;
  return p;
};

const propertiesOf = (schema: JsonSchema | undefined): Record<string, JsonSchema> =>
  (schema?.properties as Record<string, JsonSchema> | undefined) ?? {};
