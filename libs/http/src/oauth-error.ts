import type { ServerResponse } from 'node:http';
import type { HttpProblem } from './http-problem';
import { PROBLEM_CONTENT_TYPE, problemBody } from './http-problem';
import type { JsonSchema, ResponseSpec, RouteDefinition } from './route-definition';
import { writeResponse } from './write-response';

/** An RFC 6749 section 5.2 error response body. */
export interface OAuthErrorBody {
  error: string;
  error_description: string;
}

/** The RFC 6749 section 5.2 body as JSON Schema, for route responses and the OpenAPI document. */
export const oauthErrorSchema: JsonSchema = {
  title: 'OAuthError',
  type: 'object',
  description: 'RFC 6749 section 5.2 error.',
  additionalProperties: false,
  required: ['error', 'error_description'],
  properties: {
    error: { type: 'string', description: 'An RFC 6749 (or RFC 8707) error code, e.g. invalid_request.' },
    error_description: { type: 'string' },
  },
};

/** A documented OAuth error response (`application/json`), like `problemResponse` for problem documents. */
export const oauthErrorResponse = (description: string): ResponseSpec => ({ description, schema: oauthErrorSchema });

/**
 * `{error, error_description}` with the description kept to the characters RFC 6749 section 5.2 allows
 * (printable ASCII without `"` and `\`): descriptions may quote client input, and clients may parse strictly.
 */
export const oauthErrorBody = (error: string, description: string): OAuthErrorBody => ({
  error,
  error_description: description
    .replace(/"/g, "'")
    .replace(/\\/g, '/')
    .replace(/[^\x20-\x7e]/g, '?'),
});

/**
 * A problem the binder raised (or mapped from a thrown error) as an RFC 6749 section 5.2 error; the status
 * and headers (Allow, Retry-After, WWW-Authenticate) stay. The code follows from the status: 401
 * `invalid_client` (the only 401 of RFC 6749 section 5.2), 429 and 503 `temporarily_unavailable` and other
 * 5xx `server_error` (the codes RFC 6749 section 4.1.2.1 defines for these cases), any other 4xx
 * (malformed or repeated parameters, 405, 413, 415) `invalid_request`.
 */
export const oauthErrorOf = (problem: HttpProblem): OAuthErrorBody => {
  const status = problem.status;
  const error =
    status === 401
      ? 'invalid_client'
      : status === 429 || status === 503
        ? 'temporarily_unavailable'
        : status >= 500
          ? 'server_error'
          : 'invalid_request';
  // Field errors name paths and rules, never values (to-field-errors.ts), so they may be passed on.
  const fields = problem.errors?.map((e) => `${e.path} ${e.message}`).join('; ');
  return oauthErrorBody(error, fields ? `${problem.detail} (${fields})` : problem.detail);
};

/** What a route declares about how its responses look (route-definition.ts). */
export type ResponseConventions = Pick<RouteDefinition<never>, 'errorFormat' | 'responseHeaders'>;

/**
 * Sends a failure in the format its route declares, with the route's response headers first and the
 * problem's own (Allow, Retry-After, ...) after them. Without a route: a plain problem document.
 */
export const sendFailure = (res: ServerResponse, problem: HttpProblem, conventions?: ResponseConventions): void => {
  const headers =
    conventions?.responseHeaders === undefined
      ? problem.headers
      : { ...conventions.responseHeaders, ...problem.headers };
  if (conventions?.errorFormat === 'oauth2')
    writeResponse(res, problem.status, oauthErrorOf(problem), undefined, headers);
  else writeResponse(res, problem.status, problemBody(problem), PROBLEM_CONTENT_TYPE, headers);
};
