import type { FieldError } from './http-problem';
import { HttpProblem } from './http-problem';

/*
 * The problems the binder raises itself, before any handler runs. The codes are part of the public error
 * contract, so they are spelled out here once.
 */

export const validationProblem = (detail: string, errors?: FieldError[]): HttpProblem =>
  new HttpProblem(400, 'IAM_ERR_VALIDATION', 'Bad Request', detail, errors);

export const unsupportedMediaTypeProblem = (detail: string): HttpProblem =>
  new HttpProblem(415, 'IAM_ERR_UNSUPPORTED_MEDIA_TYPE', 'Unsupported Media Type', detail);

export const payloadTooLargeProblem = (limit?: number): HttpProblem =>
  new HttpProblem(
    413,
    'IAM_ERR_PAYLOAD_TOO_LARGE',
    'Payload Too Large',
    limit === undefined ? 'The request body is too large.' : `The request body exceeds ${limit} bytes.`,
  );

export const notFoundProblem = (): HttpProblem =>
  new HttpProblem(404, 'IAM_ERR_NOT_FOUND', 'Not Found', 'No resource matches the requested path.');

export const methodNotAllowedProblem = (allow: readonly string[]): HttpProblem =>
  new HttpProblem(405, 'IAM_ERR_METHOD_NOT_ALLOWED', 'Method Not Allowed', `This path accepts ${allow.join(', ')}.`, undefined, {
    Allow: allow.join(', '),
  });

export const internalProblem = (): HttpProblem =>
  new HttpProblem(500, 'IAM_ERR_INTERNAL', 'Internal Server Error', 'An unexpected error occurred.');

/** RFC 9110 section 15.5.13: a precondition (`If-Match`, `If-None-Match` on a write) does not hold. */
export const preconditionFailedProblem = (detail: string): HttpProblem =>
  new HttpProblem(412, 'IAM_ERR_PRECONDITION_FAILED', 'Precondition Failed', detail);
