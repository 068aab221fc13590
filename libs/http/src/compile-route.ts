import type { ValidateFunction } from 'ajv';
import type { BodyRules } from './extract-request-body';
import { FORM_CONTENT_TYPE, isParseableMediaType } from './extract-request-body';
import { freeValueTest } from './free-values';
import type { HandlerResult, JsonSchema, RouteDefinition } from './route-definition';
import type { SchemaCompiler } from './schema-compiler';
import { pathParamNames } from './path-param-names';
import { toFieldErrors } from './to-field-errors';
import { mayHaveBody } from './write-response';

/** A route with everything the hot path needs precomputed: no schema work happens per request. */
export interface CompiledRoute<Ctx> {
  route: RouteDefinition<Ctx>;
  validateParams?: ValidateFunction;
  validateQuery: ValidateFunction;
  headerNames: readonly string[];
  validateHeaders?: ValidateFunction;
  body?: BodyRules;
  /** Present only when responses are validated; `undefined` values mark statuses declared without a body. */
  responses?: ReadonlyMap<number, ValidateFunction | undefined>;
}

export const compileRoute = <Ctx>(
  route: RouteDefinition<Ctx>,
  compiler: SchemaCompiler,
  validateResponses: boolean,
): CompiledRoute<Ctx> => {
  const where = `${route.operationId} (${route.method.toUpperCase()} ${route.path})`;
  const request = route.request ?? {};
  const pathParams = pathParamNames(route.path);

  if (request.params !== undefined) {
    for (const name of propertyNames(request.params)) {
      if (!pathParams.includes(name))
        throw new Error(`${where}: params schema names '${name}', which is not in the path`);
    }
  }
  const headerNames = propertyNames(request.headers ?? {});
  for (const name of headerNames) {
    if (name !== name.toLowerCase()) throw new Error(`${where}: header '${name}' must be spelled in lower case`);
  }

  // A read's preconditions are parsed after its handler, on a 2xx only (bind-routes `conditionalRead`), so a malformed
  // one never turns the read's 404 into a 400; the document still shows their syntax.
  const checkedFirst = route.method === 'get' ? headerNames.filter((n) => !READ_PRECONDITIONS.has(n)) : headerNames;
  const compiled: CompiledRoute<Ctx> = {
    route,
    validateParams: request.params === undefined ? undefined : compiler.compile('coercing', request.params),
    validateQuery: compiler.compile('coercing', closedQuerySchema(request.query)),
    headerNames: checkedFirst,
    validateHeaders:
      request.headers === undefined || checkedFirst.length === 0
        ? undefined
        : compiler.compile('coercing', onlyProperties(request.headers, checkedFirst)),
  };

  if (request.body !== undefined) {
    const types = (request.body.contentTypes ?? ['application/json']).map((t) => t.toLowerCase());
    for (const t of types) {
      if (!isParseableMediaType(t)) throw new Error(`${where}: cannot parse request bodies of type '${t}'`);
    }
    const schema = request.body.schema;
    compiled.body = {
      required: request.body.required ?? true,
      mediaTypes: new Set(types),
      mediaTypeList: types.join(' or '),
      acceptPatch: route.method === 'patch' ? { 'Accept-Patch': types.join(', ') } : undefined,
      validateJson: types.some((t) => t !== FORM_CONTENT_TYPE) ? compiler.compile('exact', schema) : undefined,
      validateForm: types.includes(FORM_CONTENT_TYPE) ? compiler.compile('coercing', schema) : undefined,
      repeatable: request.body.repeatable === undefined ? undefined : new Set(request.body.repeatable),
      free: request.body.ignoresFreeValues === true ? freeValueTest(schema) : undefined,
      invalidDetail: request.body.invalidDetail ?? 'The request body is invalid.',
    };
  }

  if (validateResponses) {
    const responses = new Map<number, ValidateFunction | undefined>();
    for (const [status, spec] of Object.entries(route.responses)) {
      responses.set(Number(status), spec.schema === undefined ? undefined : compiler.compile('exact', spec.schema));
    }
    compiled.responses = responses;
  }
  return compiled;
};

/**
 * Why a handler result breaks the route's declared responses, or `undefined` when it keeps to them. The
 * reasons name paths and rules, never values, so they are safe to log.
 */
export const responseViolation = (
  responses: ReadonlyMap<number, ValidateFunction | undefined>,
  result: HandlerResult,
): string | undefined => {
  if (!responses.has(result.status)) return `status ${result.status} is not declared`;
  const validate = responses.get(result.status);
  const sendsBody = result.body !== undefined && mayHaveBody(result.status);
  if (validate === undefined)
    return sendsBody ? `status ${result.status} declares no body but one was returned` : undefined;
  if (validate(result.body)) return undefined;
  return toFieldErrors(validate.errors, 'response')
    .map((e) => `${e.path} ${e.message}`)
    .join('; ');
};

/** Open query schemas are the exception: unless a schema opts in, unknown parameters are refused. */
const closedQuerySchema = (schema: JsonSchema | undefined): JsonSchema => {
  if (schema === undefined) return NO_QUERY;
  const opensItself =
    'additionalProperties' in schema || 'patternProperties' in schema || 'unevaluatedProperties' in schema;
  if (opensItself) return schema;
  let closed = closedSchemas.get(schema);
  if (closed === undefined) {
    closed = { ...schema, additionalProperties: false };
    // Memoized so a query schema shared by many routes compiles once (the compiler caches by object).
    closedSchemas.set(schema, closed);
  }
  return closed;
};

const NO_QUERY: JsonSchema = { type: 'object', additionalProperties: false };
const closedSchemas = new WeakMap<JsonSchema, JsonSchema>();

/** The request headers of a GET that RFC 9110 section 13.2.1 evaluates only when the answer would be a 2xx. */
const READ_PRECONDITIONS = new Set(['if-match', 'if-none-match']);

/** `schema` (an object schema) with only the properties named, and only those of them required. */
const onlyProperties = (schema: JsonSchema, names: readonly string[]): JsonSchema => {
  if (names.length === propertyNames(schema).length) return schema;
  const properties = schema.properties as Record<string, JsonSchema>;
  const required = (schema.required as string[] | undefined)?.filter((n) => names.includes(n));
  return {
    ...schema,
    properties: Object.fromEntries(names.map((n) => [n, properties[n]])),
    ...(required === undefined ? {} : { required }),
  };
};

const propertyNames = (schema: JsonSchema): string[] =>
  Object.keys((schema.properties as Record<string, unknown> | undefined) ?? {});
