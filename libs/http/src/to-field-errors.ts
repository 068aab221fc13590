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
  for (const e of closestOneOfBranches(choicesOfConstants(errors ?? []))) {
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
    case 'pattern':
      return { path: at, message: PATTERN_MESSAGES.get(String(e.params.pattern)) ?? e.message ?? 'is invalid' };
    default:
      return { path: at, message: e.message ?? 'is invalid' };
  }
};

/** What described patterns mean (describedPattern), by the pattern's source text. */
const PATTERN_MESSAGES = new Map<string, string>();

/**
 * Gives a schema `pattern` its meaning in words, for the field errors of values it refuses: Ajv's own message
 * quotes the regular expression ("must match pattern "^[ \u00a0...""), which tells a client little. Returns
 * `pattern`, so a schema writes `pattern: describedPattern(SOURCE, 'must ...')` where it defines it. `message`
 * completes the path ("/body/name must hold ..."), and, like every field error, never quotes the value.
 */
export function describedPattern(pattern: string, message: string): string {
  const known = PATTERN_MESSAGES.get(pattern);
  // One pattern, one meaning: a second schema giving the same pattern another would change the first's errors.
  if (known !== undefined && known !== message)
    throw new Error(`The pattern ${pattern} is described twice: "${known}" and "${message}".`);
  PATTERN_MESSAGES.set(pattern, message);
  return pattern;
}

/**
 * Where a value matched none of an `anyOf` (or `oneOf`) whose branches are constants (TypeBox's union of
 * literals), Ajv reports "must be equal to constant" once per branch and then "must match a schema in anyOf": one
 * line instead, naming the values allowed (they are the schema's, not the client's).
 */
function choicesOfConstants(errors: readonly ErrorObject[]): readonly ErrorObject[] {
  const dropped = new Set<ErrorObject>();
  const added = new Map<ErrorObject, ErrorObject>();
  for (const choice of errors) {
    if (choice.keyword !== 'anyOf' && choice.keyword !== 'oneOf') continue;
    const within = failuresUnder(choice, errors);
    const branches = within.filter((e) => e.instancePath === choice.instancePath);
    if (branches.length === 0 || branches.length !== within.length || branches.some((e) => e.keyword !== 'const'))
      continue;
    for (const e of branches) dropped.add(e);
    const allowed = branches.map((e) => JSON.stringify(e.params.allowedValue)).join(', ');
    added.set(choice, { ...choice, keyword: 'enum', message: `must be one of ${allowed}` });
  }
  if (dropped.size === 0) return errors;
  return errors.filter((e) => !dropped.has(e)).map((e) => added.get(e) ?? e);
}

/**
 * The failures of a choice's (`anyOf`, `oneOf`) branches: under its schema path, and at its value or below (the items
 * of an array share their schema paths, so only this value's failures are the choice's).
 */
const failuresUnder = (choice: ErrorObject, errors: readonly ErrorObject[]): ErrorObject[] =>
  errors.filter(
    (e) => e.schemaPath.startsWith(`${choice.schemaPath}/`) && isWithin(e.instancePath, choice.instancePath),
  );

/** Whether the JSON pointer `path` is `parent` or lies below it (`/1` holds `/1/a`, not `/10`). */
const isWithin = (path: string, parent: string): boolean => path === parent || path.startsWith(`${parent}/`);

/** Escapes one JSON pointer reference token (RFC 6901). */
export const escapePointer = (segment: string): string => segment.replace(/~/g, '~0').replace(/\//g, '~1');

/**
 * Where a value matched none of a `oneOf`'s (or `anyOf`'s) branches, Ajv reports every branch's failures and then
 * the `oneOf` itself: for "either userId and roles, or email, name and roles" a body with an email but no name read
 * "userId is required, email is not allowed, name is required, must match exactly one schema", and a nullable id
 * that is none "must match pattern, must be null, must match a schema in anyOf". Kept: the failures of the branch
 * that came closest (the fewest failures; the first on a tie), without the `oneOf` line; where the closest branches
 * each failed on the value's type alone, one line naming every type allowed ("must be string or null"). A `oneOf`
 * that failed because two branches matched (no branch failures) is kept as Ajv said it.
 */
function closestOneOfBranches(errors: readonly ErrorObject[]): readonly ErrorObject[] {
  const dropped = new Set<ErrorObject>();
  const reworded = new Map<ErrorObject, ErrorObject>();
  for (const choice of errors) {
    if (choice.keyword !== 'oneOf' && choice.keyword !== 'anyOf') continue;
    const branches = new Map<string, ErrorObject[]>();
    for (const e of failuresUnder(choice, errors)) {
      const branch = e.schemaPath.slice(choice.schemaPath.length + 1).split('/')[0];
      branches.set(branch, [...(branches.get(branch) ?? []), e]);
    }
    if (branches.size === 0) continue;
    const fewest = Math.min(...[...branches.values()].map((failures) => failures.length));
    // On a tie, a branch the value failed for more than its type comes first: its failure says more ("must be an
    // id" rather than "must be null" for a string that is no id).
    const typeAlone = (failures: ErrorObject[]) => failures.every((e) => e.keyword === 'type');
    const closest = [...branches.values()]
      .filter((failures) => failures.length === fewest)
      .sort((a, b) => Number(typeAlone(a)) - Number(typeAlone(b)));
    dropped.add(choice);
    for (const failures of branches.values()) if (failures !== closest[0]) for (const e of failures) dropped.add(e);
    const typeOnly = closest.every(
      (failures) =>
        failures.length === 1 && failures[0].keyword === 'type' && failures[0].instancePath === choice.instancePath,
    );
    if (typeOnly && closest.length > 1) {
      const types = closest.map((failures) => String(failures[0].params.type).replace(/,/g, ' or '));
      reworded.set(closest[0][0], { ...closest[0][0], message: `must be ${types.join(' or ')}` });
    }
  }
  if (dropped.size === 0) return errors;
  return errors.filter((e) => !dropped.has(e)).map((e) => reworded.get(e) ?? e);
}
