import type { ErrorObject } from 'ajv';
import type { FieldError } from './http-problem';

/** `params`, `query`, `headers`, `body` for requests; the binder also reports `response` failures this way. */
export type FieldLocation = 'params' | 'query' | 'headers' | 'body' | 'response';

/**
 * Turns Ajv errors into client-facing field errors whose path names the offending property itself: for
 * `required` and `additionalProperties` Ajv points at the parent object, which tells a client nothing.
 * Messages never quote the rejected value, so nothing the client sent (possibly a secret) is echoed back.
 */
export const toFieldErrors = (
  errors: readonly ErrorObject[] | null | undefined,
  location: FieldLocation,
): FieldError[] => {
  const result: FieldError[] = [];
  const seen = new Set<string>();
  for (const e of errors ?? []) {
    const field = toFieldError(e, `/${location}`);
    if (field === undefined) continue;
    const key = `${field.path}\u0000${field.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    result.push(field);
  }
  return result;
};

const toFieldError = (e: ErrorObject, prefix: string): FieldError | undefined => {
  const at = prefix + e.instancePath;
  switch (e.keyword) {
    case 'required':
    case 'dependentRequired':
      return { path: `${at}/${escapePointer(String(e.params.missingProperty))}`, message: 'is required' };
    case 'additionalProperties':
      return { path: `${at}/${escapePointer(String(e.params.additionalProperty))}`, message: 'is not allowed' };
    case 'unevaluatedProperties':
      return { path: `${at}/${escapePointer(String(e.params.unevaluatedProperty))}`, message: 'is not allowed' };
    case 'if':
      // Always accompanied by the failure of the `then`/`else` branch, which says what is actually wrong.
      return undefined;
    default:
      return { path: at, message: e.message ?? 'is invalid' };
  }
};

/** Escapes one JSON pointer reference token (RFC 6901). */
export const escapePointer = (segment: string): string => segment.replace(/~/g, '~0').replace(/\//g, '~1');
