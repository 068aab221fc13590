import type { JsonSchema } from './route-definition';

/** A location in a JSON value: member names and array indexes, outermost first (RFC 6901's reference tokens). */
export type JsonPath = readonly (string | number)[];

/** Keywords that describe a value without constraining it (JSON Schema 2020-12 meta-data and annotations). */
const ANNOTATIONS = new Set([
  'title',
  'description',
  'default',
  'examples',
  'deprecated',
  'readOnly',
  'writeOnly',
  '$comment',
]);

/** Subschemas that apply to the same location as their parent (in-place applicators, 2020-12 section 10.2). */
const IN_PLACE = ['allOf', 'anyOf', 'oneOf'] as const;
const IN_PLACE_SINGLE = ['not', 'if', 'then', 'else'] as const;

type Schema = JsonSchema | boolean;

const isObject = (s: unknown): s is Record<string, unknown> => typeof s === 'object' && s !== null;

/** Whether `s` accepts every value at its location (`true`, `{}`, or annotations only). */
const unconstrained = (s: Schema): boolean =>
  s === true || (isObject(s) && Object.keys(s).every((k) => ANNOTATIONS.has(k)));

/**
 * The schemas that govern the child `segment` of a value `s` governs, or undefined when the child is
 * constrained in a way this walk does not follow (a `$ref`, `propertyNames`, `contains`,
 * `unevaluatedProperties`/`unevaluatedItems`, or a closed object refusing the member). Conservative: a child
 * counts as free only when no schema on the way says anything about it.
 */
function step(s: Schema, segment: string | number): Schema[] | undefined {
  if (unconstrained(s)) return [];
  if (!isObject(s)) return undefined; // `false`
  if ('$ref' in s || '$dynamicRef' in s || 'unevaluatedProperties' in s || 'unevaluatedItems' in s) return undefined;
  const out: Schema[] = [];
  if (typeof segment === 'string') {
    if ('propertyNames' in s) return undefined;
    const named = (s.properties as Record<string, Schema> | undefined)?.[segment];
    const patterns = Object.entries((s.patternProperties as Record<string, Schema> | undefined) ?? {})
      .filter(([pattern]) => new RegExp(pattern, 'u').test(segment))
      .map(([, schema]) => schema);
    if (named !== undefined) out.push(named);
    out.push(...patterns);
    if (named === undefined && patterns.length === 0) {
      const additional = s.additionalProperties as Schema | undefined;
      if (additional === false) return undefined;
      if (additional !== undefined) out.push(additional);
    }
  } else {
    if ('contains' in s) return undefined;
    const prefix = s.prefixItems as Schema[] | undefined;
    const item = prefix !== undefined && segment < prefix.length ? prefix[segment] : (s.items as Schema | undefined);
    if (item === false) return undefined;
    if (item !== undefined) out.push(item);
  }
  for (const key of IN_PLACE)
    for (const sub of (s[key] as Schema[] | undefined) ?? []) {
      const stepped = step(sub, segment);
      if (stepped === undefined) return undefined;
      out.push(...stepped);
    }
  for (const key of IN_PLACE_SINGLE) {
    const sub = s[key] as Schema | undefined;
    if (sub === undefined) continue;
    const stepped = step(sub, segment);
    if (stepped === undefined) return undefined;
    out.push(...stepped);
  }
  return out;
}

/**
 * A test of whether the value at a path of a body is free under `schema`: no schema on the way constrains it
 * (an unknown member of an open object, a value of `{}`), so the schema accepts any JSON there and a handler
 * that reads only what its schema names never reads it. For the body rules of `ignoresFreeValues` routes
 * (see jsonStructureFault): what is never read need not be kept exactly. Conservative (see `step`).
 */
export const freeValueTest =
  (schema: JsonSchema) =>
  (path: JsonPath): boolean => {
    let governing: Schema[] = [schema];
    for (const segment of path) {
      if (governing.every(unconstrained)) return true;
      const next: Schema[] = [];
      for (const s of governing) {
        const stepped = step(s, segment);
        if (stepped === undefined) return false;
        next.push(...stepped);
      }
      governing = next;
    }
    return governing.every(unconstrained);
  };
