import type { ValidateFunction } from 'ajv';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { CompiledRoute } from './compile-route';
import { compileRoute, responseViolation } from './compile-route';
import { ifMatchHolds, ifNoneMatchHolds, readPreconditions } from './entity-tags';
import { extractRequestBody, refuseRequestContent } from './extract-request-body';
import type { HttpProblem } from './http-problem';
import { parseQueryString } from './parse-query-string';
import { repeatedSingletonHeader } from './repeated-headers';
import { sendFailure, type ResponseConventions } from './oauth-error';
import {
  internalProblem,
  methodNotAllowedProblem,
  preconditionFailedProblem,
  validationProblem,
} from './request-problems';
import type { HandlerRequest, HandlerResult, RouteDefinition } from './route-definition';
import { RouteTable } from './route-table';
import { SchemaCompiler } from './schema-compiler';
import type { HttpLog, MapError } from './to-problem';
import { logServerFault, stderrLog, toProblem } from './to-problem';
import type { FieldLocation } from './to-field-errors';
import { toFieldErrors } from './to-field-errors';
import { sendProblem, writeResponse } from './write-response';

export interface BindRoutesOptions<Ctx> {
  ctx: Ctx;
  /** Runs first for `auth: 'bearer'` routes; throw (e.g. an HttpProblem 401) to refuse. */
  authenticate: (req: Request) => Promise<unknown>;
  /** Renders whatever `authenticate` or a handler throws (HttpProblems pass through untouched). */
  mapError: MapError;
  /** Turns a response that breaks its declared schema or status into a 500; meant for tests. Default false. */
  validateResponses?: boolean;
  /** Check every schema against the JSON Schema meta-schema at bind time; defaults to `validateResponses`. */
  checkSchemas?: boolean;
  /** Default 65536. */
  bodyLimitBytes?: number;
  log?: HttpLog;
  /**
   * The path the routes live under (`/api/v1`), when the handler is used without an Express mount path;
   * default '' (mounted with `app.use('/api/v1', handler)`, which costs a prefix match and URL rewrite).
   */
  prefix?: string;
}

interface Settings<Ctx> {
  ctx: Ctx;
  authenticate: (req: Request) => Promise<unknown>;
  mapError: MapError;
  bodyLimit: number;
  log: HttpLog;
}

/**
 * Binds route definitions into one Express middleware. All schemas are compiled here, once; each request is
 * looked up in a `RouteTable` (Express's own router costs about a tenth of a request), then runs:
 * authenticate → params → query → headers → body → handler, and the first failure is rendered in the
 * route's `errorFormat` (an RFC 9457 problem by default). A GET or HEAD answered 2xx then honours
 * `If-Match` and `If-None-Match` against the `ETag` the handler returned (RFC 9110 section 13.2.2: 412, 304). A path that exists answers other methods with 405
 * and `Allow` (OPTIONS: 204 and `Allow`), in the format and with the `responseHeaders` of the routes on that
 * path; any other path goes to the next middleware. The routes parse bodies themselves, so no app-wide
 * body parser is needed.
 */
export const bindRoutes = <Ctx>(
  routes: readonly RouteDefinition<Ctx>[],
  options: BindRoutesOptions<Ctx>,
): RequestHandler => {
  const settings: Settings<Ctx> = {
    ctx: options.ctx,
    authenticate: options.authenticate,
    mapError: options.mapError,
    bodyLimit: options.bodyLimitBytes ?? 65536,
    log: options.log ?? stderrLog,
  };
  const compiler = new SchemaCompiler(options.checkSchemas ?? options.validateResponses === true);
  const operationIds = new Set<string>();
  const table = new RouteTable<CompiledRoute<Ctx>>();
  // How 405 and OPTIONS answer on each path template: in its routes' error format (which they must share),
  // with the response headers that all of them declare alike.
  const pathConventions = new Map<string, Required<ResponseConventions>>();
  for (const route of routes) {
    if (operationIds.has(route.operationId)) throw new Error(`Duplicate operationId '${route.operationId}'`);
    operationIds.add(route.operationId);
    const path = route.path.toLowerCase();
    const own = { errorFormat: route.errorFormat ?? 'problem', responseHeaders: route.responseHeaders ?? {} };
    const seen = pathConventions.get(path);
    if (seen !== undefined && seen.errorFormat !== own.errorFormat)
      throw new Error(`${route.operationId}: the routes on ${route.path} must declare the same errorFormat`);
    pathConventions.set(
      path,
      seen === undefined
        ? own
        : { errorFormat: own.errorFormat, responseHeaders: sharedHeaders(seen.responseHeaders, own.responseHeaders) },
    );
    table.add(route.method, route.path, compileRoute(route, compiler, options.validateResponses === true));
  }
  const prefix = options.prefix ?? '';

  return (req: Request, res: Response, next: NextFunction): void => {
    const pathname = pathnameUnder(req.url, prefix);
    if (pathname === undefined) {
      next();
      return;
    }
    const found = table.match(req.method, pathname);
    switch (found.kind) {
      case 'found':
        req.params = found.params;
        void serve(found.value, settings, req, res);
        return;
      case 'method-not-allowed': {
        // Any route on the path names its template; a 405 is rare, so the second lookup costs nothing that matters.
        const sibling = table.match(found.allow[0], pathname);
        const conventions =
          sibling.kind === 'found' ? pathConventions.get(sibling.value.route.path.toLowerCase()) : undefined;
        if (req.method === 'OPTIONS') {
          res.statusCode = 204;
          for (const [name, value] of Object.entries(conventions?.responseHeaders ?? {})) res.setHeader(name, value);
          res.setHeader('Allow', found.allow.join(', '));
          res.end();
        } else {
          sendFailure(res, methodNotAllowedProblem(found.allow), conventions);
        }
        return;
      }
      case 'bad-encoding':
        sendProblem(res, validationProblem('A path parameter is not valid percent-encoding.'));
        return;
      case 'none':
        next();
    }
  };
};

/** The headers both declare with the same value. */
const sharedHeaders = (a: Record<string, string>, b: Record<string, string>): Record<string, string> =>
  Object.fromEntries(Object.entries(a).filter(([name, value]) => b[name] === value));

/**
 * The path of `url` below `prefix` (matched case-insensitively, as Express mount paths are), without the
 * query string; `undefined` when the URL is not under the prefix.
 */
const pathnameUnder = (url: string, prefix: string): string | undefined => {
  let path = url;
  if (!path.startsWith('/')) {
    // Absolute form (`GET http://host/path`), as a proxy may send.
    try {
      path = new URL(path).pathname;
    } catch {
      return undefined;
    }
  }
  const query = path.indexOf('?');
  if (query !== -1) path = path.slice(0, query);
  if (prefix === '') return path;
  const head = path.slice(0, prefix.length);
  if (head !== prefix && head.toLowerCase() !== prefix.toLowerCase()) return undefined;
  const rest = path.slice(prefix.length);
  if (rest === '') return '/';
  return rest.startsWith('/') ? rest : undefined;
};

/** Never rejects: every failure ends as a problem response (or, once headers are out, a cut connection). */
const serve = async <Ctx>(c: CompiledRoute<Ctx>, s: Settings<Ctx>, req: Request, res: Response): Promise<void> => {
  let result: HandlerResult;
  try {
    const repeated = repeatedSingletonHeader(req.rawHeaders);
    if (repeated !== undefined) throw validationProblem(`The ${repeated} header field is given more than once.`);
    const auth = c.route.auth === 'bearer' ? await s.authenticate(req) : undefined;
    // Property order is evaluation order: params, query, headers, then the body is read.
    const input: HandlerRequest = {
      params: validated(c.validateParams, req.params, 'params'),
      query: validated(c.validateQuery, parseQueryString(req.url), 'query'),
      headers:
        c.validateHeaders === undefined ? {} : validated(c.validateHeaders, pickHeaders(req, c.headerNames), 'headers'),
      body: c.body === undefined ? refuseRequestContent(req) : await extractRequestBody(req, c.body, s.bodyLimit),
      auth,
      raw: req,
    };
    result = await c.route.handler(input, s.ctx);
  } catch (err) {
    fail(c, s, res, toProblem(err, s.mapError), err);
    return;
  }

  if (c.responses !== undefined) {
    const violation = responseViolation(c.responses, result);
    if (violation !== undefined) {
      fail(c, s, res, internalProblem(), new Error(`Response breaks the declared contract: ${violation}`));
      return;
    }
  }

  if (req.method === 'GET' || req.method === 'HEAD') {
    try {
      result = conditionalRead(req, result);
    } catch (err) {
      fail(c, s, res, toProblem(err, s.mapError), err);
      return;
    }
  }

  try {
    const contentType = result.contentType ?? c.route.responses[result.status]?.contentType;
    const fixed = c.route.responseHeaders;
    writeResponse(
      res,
      result.status,
      result.body,
      contentType,
      fixed === undefined ? result.headers : { ...fixed, ...result.headers },
    );
  } catch (err) {
    fail(c, s, res, internalProblem(), err);
  }
};

/**
 * The conditional requests of RFC 9110 section 13.2.2 on a read, evaluated on what the handler would
 * answer: only a 2xx counts (section 13.2.1), with its `ETag` (if any) as the current representation's tag.
 * `If-Match` first (412 when it does not hold), then `If-None-Match`: when it does not hold, 304 with the
 * response's headers (ETag included) and no body. Throws a 400 problem for a malformed header.
 */
const conditionalRead = (req: Request, result: HandlerResult): HandlerResult => {
  if (result.status < 200 || result.status > 299) return result;
  if (req.headers['if-match'] === undefined && req.headers['if-none-match'] === undefined) return result;
  const { ifMatch, ifNoneMatch } = readPreconditions(req.headers);
  const tag = result.headers?.ETag;
  if (ifMatch !== undefined && !ifMatchHolds(ifMatch, tag, true))
    throw preconditionFailedProblem('If-Match matches no current representation of the resource.');
  if (ifNoneMatch !== undefined && !ifNoneMatchHolds(ifNoneMatch, tag, true))
    return { status: 304, headers: result.headers };
  return result;
};

const fail = <Ctx>(
  c: CompiledRoute<Ctx>,
  s: Settings<Ctx>,
  res: Response,
  problem: HttpProblem,
  err: unknown,
): void => {
  logServerFault(s.log, problem, err, { operationId: c.route.operationId, method: c.route.method, path: c.route.path });
  if (res.headersSent) {
    res.destroy();
    return;
  }
  sendFailure(res, problem, c.route);
};

const DETAILS: Record<FieldLocation, string> = {
  params: 'The path parameters are invalid.',
  query: 'The query parameters are invalid.',
  headers: 'The request headers are invalid.',
  body: 'The request body is invalid.',
  response: 'The response is invalid.',
};

/** Validates in place (coercion and defaults mutate `value`) and returns it. */
const validated = <T>(validate: ValidateFunction | undefined, value: T, location: FieldLocation): T => {
  if (validate === undefined || validate(value)) return value;
  throw validationProblem(DETAILS[location], toFieldErrors(validate.errors, location));
};

const pickHeaders = (req: Request, names: readonly string[]): Record<string, string | undefined> => {
  const picked: Record<string, string | undefined> = {};
  for (const name of names) {
    const value = req.headers[name];
    if (value !== undefined) picked[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return picked;
};
