import { PROBLEM_CONTENT_TYPE } from './http-problem';
import { oauthErrorSchema } from './oauth-error';
import { problemSchemaRef } from './problem-schema';
import type { JsonSchema, RouteDefinition } from './route-definition';

/** What a component name may be (OpenAPI 3.1 section 4.8.7.1). */
const COMPONENT_NAME = /^[A-Za-z0-9._-]+$/;

/**
 * Gives schemas names: every sub-schema that carries a `title` moves to `components.schemas[title]` and is
 * replaced by a `$ref` to it, so code generators (openapi-typescript, ...) emit one named type per resource.
 * The title is the one declaration: a schema declared with a title next to its route is named wherever it
 * is used, and a route added later gets the same. Invariant: one title, one schema (deep-equal); two
 * different schemas under one title throw, since a generated client could not tell them apart.
 */
export class SchemaNames {
  readonly schemas: Record<string, JsonSchema>;
  private readonly seen = new Map<string, string>();
  private readonly memo = new WeakMap<JsonSchema, JsonSchema>();

  constructor(shared: Record<string, JsonSchema>) {
    this.schemas = { ...shared };
  }

  /** `schema` with every titled sub-schema (itself included) replaced by a `$ref`; the input is not changed. */
  name(schema: JsonSchema): JsonSchema {
    const done = this.memo.get(schema);
    if (done !== undefined) return done;
    const body = this.walk(schema) as JsonSchema;
    const title = schema.title;
    let result = body;
    if (typeof title === 'string') {
      if (!COMPONENT_NAME.test(title)) throw new Error(`Schema title '${title}' is not a valid component name`);
      const text = JSON.stringify(body);
      const previous = this.seen.get(title);
      if (previous !== undefined && previous !== text) throw new Error(`Two different schemas are titled '${title}'`);
      this.seen.set(title, text);
      this.schemas[title] = body;
      result = { $ref: `#/components/schemas/${title}` };
    }
    this.memo.set(schema, result);
    return result;
  }

  /**
   * Any part of a document (an operation, a response) with its titled schemas named. Copy-on-change: a
   * subtree without titled schemas comes back as the same object.
   */
  walk(node: unknown): unknown {
    if (Array.isArray(node)) {
      // oneOf, anyOf, allOf and prefixItems hold schemas, which may be titled themselves.
      const items = node.map((item) =>
        isSchemaObject(item) && typeof item.title === 'string' ? this.name(item) : this.walk(item),
      );
      return items.every((item, i) => item === node[i]) ? node : items;
    }
    if (node === null || typeof node !== 'object') return node;
    let changed = false;
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(node)) {
      // `properties` and the like map names to schemas; `const`, `enum`, `default` and `examples` hold data.
      const next = DATA_KEYWORDS.has(key)
        ? value
        : isSchemaObject(value) && typeof value.title === 'string'
          ? this.name(value)
          : this.walk(value);
      if (next !== value) changed = true;
      out[key] = next;
    }
    return changed ? out : node;
  }
}

const DATA_KEYWORDS = new Set(['const', 'enum', 'default', 'examples', 'example']);
const isSchemaObject = (value: unknown): value is JsonSchema =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

/**
 * What every path answers besides its operations (appended to `info.description`: OpenAPI has no place for
 * the answer to a method a path does not define).
 */
export const PATH_CONVENTIONS =
  'Every path answers a method it does not define with 405 and `Allow` (and OPTIONS with 204 and `Allow`), as an RFC 9457 problem or, on the OAuth endpoints, an RFC 6749 error.';

/** The failures the binder and the error mapping may answer for any route, by status. */
const STANDARD_FAILURES: Record<
  number,
  {
    description: string;
    applies: (route: RouteDefinition<never>) => boolean;
    headers?: Record<string, string>;
    /** Response fields only some routes of the status send. */
    headersOf?: (route: RouteDefinition<never>) => Record<string, string> | undefined;
  }
> = {
  400: {
    description: 'Invalid input: a parameter, header or body breaks the schema (the field errors say where).',
    applies: () => true,
  },
  401: {
    description: 'No valid bearer token (missing, malformed, expired or revoked).',
    applies: (r) => r.auth === 'bearer',
    headers: { 'WWW-Authenticate': 'The RFC 6750 challenge.' },
  },
  413: { description: 'The body exceeds the size limit (64 KiB).', applies: (r) => r.request?.body !== undefined },
  415: {
    description: 'The body is not of a declared media type, not UTF-8, or compressed.',
    applies: (r) => r.request?.body !== undefined,
    headersOf: (r) =>
      r.method === 'patch'
        ? { 'Accept-Patch': 'RFC 5789 section 2.2: the media types this PATCH accepts.' }
        : undefined,
  },
  500: { description: 'An unexpected error; the answer reveals nothing of it.', applies: () => true },
  503: {
    description: 'A store is unreachable or busy; retry after the given delay.',
    applies: () => true,
    headers: { 'Retry-After': 'Seconds to wait before retrying.' },
  },
};

/**
 * The operation's responses completed with the failures that any route of its kind may answer (400 for
 * input, 401 for bearer routes, 413/415 for bodies, 500, 503), in the route's error format: RFC 9457
 * problems, or RFC 6749 errors for `errorFormat: 'oauth2'`. A status the route declares itself wins.
 */
export const withStandardFailures = (
  route: RouteDefinition<never>,
  declared: Record<string, unknown>,
): Record<string, unknown> => {
  const responses: Record<string, unknown> = { ...declared };
  for (const [status, failure] of Object.entries(STANDARD_FAILURES)) {
    if (responses[status] !== undefined || !failure.applies(route)) continue;
    const response: Record<string, unknown> = { description: failure.description, content: failureContent(route) };
    const headers = failure.headers ?? failure.headersOf?.(route);
    if (headers !== undefined)
      response.headers = Object.fromEntries(
        Object.entries(headers).map(([name, description]) => [name, { description, schema: { type: 'string' } }]),
      );
    responses[status] = response;
  }
  return Object.fromEntries(Object.entries(responses).sort(([a], [b]) => a.localeCompare(b)));
};

const failureContent = (route: RouteDefinition<never>): Record<string, unknown> =>
  route.errorFormat === 'oauth2'
    ? { 'application/json': { schema: oauthErrorSchema } }
    : { [PROBLEM_CONTENT_TYPE]: { schema: problemSchemaRef } };
