import type { Request } from 'express';
import type { Static, TObject, TSchema, TUndefined } from '@sinclair/typebox';

/** A JSON Schema 2020-12 document, the dialect OpenAPI 3.1 uses, so one schema serves validation and docs. */
export type JsonSchema = Record<string, unknown>;

export type HttpMethod = 'get' | 'post' | 'put' | 'patch' | 'delete';

export interface ResponseSpec {
  description: string;
  schema?: JsonSchema;
  /** Defaults to `application/json`. */
  contentType?: string;
  headers?: Record<string, { description: string; schema?: JsonSchema }>;
  /**
   * OpenAPI links (section 4.8.20): operations this response's values feed, e.g. a created resource's id
   * into its GET (`{ operationId: 'getOrg', parameters: { orgId: '$response.body#/id' } }`). Emitted as is.
   */
  links?: Record<string, { operationId: string; parameters: Record<string, string>; description?: string }>;
}

export interface RequestSpec<
  P extends JsonSchema = JsonSchema,
  Q extends JsonSchema = JsonSchema,
  B extends JsonSchema = JsonSchema,
> {
  /** Object schema of the path parameters. */
  params?: P;
  /**
   * Object schema of the query parameters. Unknown parameters are rejected unless the schema itself says
   * otherwise (`additionalProperties`, `patternProperties` or `unevaluatedProperties`).
   */
  query?: Q;
  /** Object schema of the documented request headers; property names are lower-case (`if-match`). */
  headers?: JsonSchema;
  body?: {
    schema: B;
    /** Defaults to `['application/json']`; JSON (`application/json`, `*+json`) and form bodies are supported. */
    contentTypes?: string[];
    /** Defaults to true. */
    required?: boolean;
    /**
     * Form fields that may appear more than once (RFC 8707's `resource`): they always arrive as arrays of
     * strings, so their schema must accept an array. Every other repeated form field is a 400.
     */
    repeatable?: string[];
    /**
     * The handler never reads a value the schema leaves free (an unknown member of an open object, a value
     * of `{}`), as AuthZEN requires of receivers: the JSON body rules that keep stored values exact (numbers
     * within ±(2^53 − 1), no U+0000, no lone surrogate: jsonStructureFault) are not applied there, so a body
     * the schema accepts is not refused for what is ignored. Everything the schema constrains keeps them.
     */
    ignoresFreeValues?: boolean;
    /**
     * The `detail` of a 400 when the body breaks its schema (default: "The request body is invalid."): says
     * what the operation takes where schema errors alone would not (a `oneOf` of two shapes, say).
     */
    invalidDetail?: string;
  };
}

/**
 * How the binder renders a route's failures: `problem` (the default), RFC 9457
 * `application/problem+json`; `oauth2`, RFC 6749 section 5.2 `{error, error_description}` as
 * `application/json`, for OAuth endpoints whose clients expect nothing else (see `oauthErrorOf`).
 */
export type ErrorFormat = 'problem' | 'oauth2';

/**
 * One HTTP operation: the single source of truth for routing, request validation and the OpenAPI document.
 * `Ctx` is whatever the application hands every handler (use cases, clock, config).
 */
export interface RouteDefinition<
  Ctx = unknown,
  P extends JsonSchema = JsonSchema,
  Q extends JsonSchema = JsonSchema,
  B extends JsonSchema = JsonSchema,
> {
  operationId: string;
  method: HttpMethod;
  /** OpenAPI style, relative to the base path: `/orgs/{orgId}/children`. */
  path: string;
  summary: string;
  description?: string;
  tags?: string[];
  /** `bearer`: the binder calls `options.authenticate` before validating anything else. */
  auth: 'bearer' | 'none';
  /**
   * Documentation only, for `auth: 'none'` routes that authenticate their callers themselves (the OAuth
   * endpoints): the accepted alternatives as OpenAPI security requirements over the schemes `bearerAuth` and
   * `clientBasic` (RFC 6749 section 2.3.1), `{}` meaning none (anonymous, or credentials in the body).
   * Default: `[]`, no authentication.
   */
  security?: Record<string, string[]>[];
  /** Documentation only (`x-permission`); enforcing it is the handler's job. */
  permission?: string;
  /**
   * The format of every failure the binder answers for this route (invalid input, 413, 415, whatever the
   * handler throws) and of the 405 answers on its path. Routes sharing a path must agree. Default `problem`.
   */
  errorFormat?: ErrorFormat;
  /**
   * Headers on every response of this route, failures included; a handler's own headers come after them.
   * The 405/OPTIONS answers on its path carry those that every route on the path declares alike. For
   * responses that carry credentials: `Cache-Control: no-store`.
   */
  responseHeaders?: Record<string, string>;
  request?: RequestSpec<P, Q, B>;
  responses: Record<number, ResponseSpec>;
  /**
   * Receives the request as validated: with TypeBox schemas (see `defineRouteFor`), `params`, `query` and
   * `body` are typed `Static<schema>`, derived from the schemas that validate them. A method, so that a
   * route of any schemas is a `RouteDefinition<Ctx>` for the binder.
   */
  handler(
    req: HandlerRequest<
      Validated<P, Record<string, unknown>>,
      Validated<Q, Record<string, unknown>>,
      Validated<B, unknown>
    >,
    ctx: Ctx,
  ): Promise<HandlerResult>;
}

/**
 * What a schema validates, as a TypeScript type: `Static<S>` for a TypeBox schema; `Fallback` (records of
 * `unknown`, an `unknown` body) for a plain JSON Schema object, which the handler must then narrow itself.
 */
export type Validated<S, Fallback> = S extends TSchema ? Static<S> : Fallback;

export interface HandlerRequest<P = Record<string, unknown>, Q = Record<string, unknown>, B = unknown> {
  /** Validated and type-coerced path parameters. */
  params: P;
  /** Validated, type-coerced query parameters, with schema defaults applied. */
  query: Q;
  /** The documented request headers only (see `request.headers`); read anything else from `raw`. */
  headers: Record<string, string | undefined>;
  /** The validated body; `undefined` when the route declares none or an optional body was absent. */
  body: B;
  /** What `authenticate` returned; `undefined` for `auth: 'none'`. */
  auth: unknown;
  raw: Request;
}

export interface HandlerResult {
  status: number;
  /** Serialized as JSON unless the content type is neither JSON nor the body a string or Buffer. */
  body?: unknown;
  headers?: Record<string, string>;
  contentType?: string;
}

/** Identity function whose only purpose is type inference of `Ctx` and literal types at definition sites. */
export const defineRoute = <Ctx>(route: RouteDefinition<Ctx>): RouteDefinition<Ctx> => route;

/** No path parameters, no query parameters: what a handler sees when its route declares none. */
type NoParameters = TObject<Record<string, never>>;

/**
 * `defineRouteFor<Ctx>()` returns the definer of typed routes: every request schema is a TypeBox schema
 * (JSON Schema 2020-12, so the binder validates with it and the OpenAPI document shows it unchanged), and the
 * handler's `params`, `query` and `body` are typed from those very schemas (`Static<S>`): schema and type
 * cannot drift, and no handler receives `any`. A part the route does not declare is `{}` (params, query) or
 * `undefined` (body). Curried because TypeScript cannot infer the schemas once `Ctx` is given explicitly.
 */
export const defineRouteFor =
  <Ctx>() =>
  <P extends TSchema = NoParameters, Q extends TSchema = NoParameters, B extends TSchema = TUndefined>(
    route: RouteDefinition<Ctx, P, Q, B>,
  ): RouteDefinition<Ctx> =>
    route as unknown as RouteDefinition<Ctx>;
