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
  for (const e of closestOneOfBranches(errors ?? [])) {
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

/**
 * Where a value matched none of a `oneOf`'s branches, Ajv reports every branch's failures and then the `oneOf`
 * itself: for "either userId and roles, or email, name and roles" a body with an email but no name read "userId is
 * required, email is not allowed, name is required, must match exactly one schema". Kept: the failures of the
 * branch that came closest (the fewest failures; the first on a tie), without the `oneOf` line. A `oneOf` that
 * failed because two branches matched (no branch failures) is kept as Ajv said it.
 */
function closestOneOfBranches(errors: readonly ErrorObject[]): readonly ErrorObject[] {
  const dropped = new Set<ErrorObject>();
  for (const oneOf of errors) {
    if (oneOf.keyword !== 'oneOf') continue;
    const branches = new Map<string, ErrorObject[]>();
    const prefix = `${oneOf.schemaPath}/`;
    for (const e of errors) {
      if (!e.schemaPath.startsWith(prefix) || !e.instancePath.startsWith(oneOf.instancePath)) continue;
      const branch = e.schemaPath.slice(prefix.length).split('/')[0];
      branches.set(branch, [...(branches.get(branch) ?? []), e]);
    }
    if (branches.size === 0) continue;
    const closest = [...branches.values()].reduce((best, next) => (next.length < best.length ? next : best));
    dropped.add(oneOf);
    for (const failures of branches.values()) if (failures !== closest) for (const e of failures) dropped.add(e);
  }
  return dropped.size === 0 ? errors : errors.filter((e) => !dropped.has(e));
}
