import type { FieldError } from './http-problem';
import { HttpProblem } from './http-problem';

/*
 * The problems the binder raises itself, before any handler runs. The codes are part of the public error
 * contract, so they are spelled out here once.
 */

/**
 * The title of each problem type the binder raises. RFC 9457 §3.1.3: a type's title does not change from
 * occurrence to occurrence, so the API's code-to-HTTP table (libs/api problem-mapping.ts) takes these same
 * strings for the same codes rather than spelling its own.
 */
export const BINDER_PROBLEM_TITLES = {
  IAM_ERR_VALIDATION: 'The request is not valid',
  IAM_ERR_UNSUPPORTED_MEDIA_TYPE: 'Unsupported media type',
  IAM_ERR_PAYLOAD_TOO_LARGE: 'Payload too large',
  IAM_ERR_NOT_FOUND: 'Not found',
  IAM_ERR_METHOD_NOT_ALLOWED: 'Method not allowed',
  IAM_ERR_INTERNAL: 'Internal error',
  IAM_ERR_PRECONDITION_FAILED: 'Precondition failed',
} as const;
const T = BINDER_PROBLEM_TITLES;

export const validationProblem = (detail: string, errors?: FieldError[]): HttpProblem =>
  new HttpProblem(400, 'IAM_ERR_VALIDATION', T.IAM_ERR_VALIDATION, detail, errors);

/** A 415; `headers` add response fields (`Accept-Patch` on a PATCH route, RFC 5789 section 2.2). */
export const unsupportedMediaTypeProblem = (detail: string, headers?: Record<string, string>): HttpProblem =>
  new HttpProblem(415, 'IAM_ERR_UNSUPPORTED_MEDIA_TYPE', T.IAM_ERR_UNSUPPORTED_MEDIA_TYPE, detail, undefined, headers);

export const payloadTooLargeProblem = (limit?: number): HttpProblem =>
  new HttpProblem(
    413,
    'IAM_ERR_PAYLOAD_TOO_LARGE',
    T.IAM_ERR_PAYLOAD_TOO_LARGE,
    limit === undefined ? 'The request body is too large.' : `The request body exceeds ${limit} bytes.`,
  );

export const notFoundProblem = (): HttpProblem =>
  new HttpProblem(404, 'IAM_ERR_NOT_FOUND', T.IAM_ERR_NOT_FOUND, 'No resource matches the requested path.');

export const methodNotAllowedProblem = (allow: readonly string[]): HttpProblem =>
  new HttpProblem(
    405,
    'IAM_ERR_METHOD_NOT_ALLOWED',
    T.IAM_ERR_METHOD_NOT_ALLOWED,
    `This path accepts ${allow.join(', ')}.`,
    undefined,
    {
      Allow: allow.join(', '),
    },
  );

export const internalProblem = (): HttpProblem =>
  new HttpProblem(500, 'IAM_ERR_INTERNAL', T.IAM_ERR_INTERNAL, 'An unexpected error occurred.');

/** RFC 9110 section 15.5.13: a precondition (`If-Match`, `If-None-Match` on a write) does not hold. */
export const preconditionFailedProblem = (detail: string): HttpProblem =>
  new HttpProblem(412, 'IAM_ERR_PRECONDITION_FAILED', T.IAM_ERR_PRECONDITION_FAILED, detail);
