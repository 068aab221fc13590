import { createHash } from 'node:crypto';
import { describedPattern } from './to-field-errors';
import { validationProblem } from './request-problems';
import { jsonOf } from './write-response';

/*
 * Entity tags and the conditional request headers that name them (RFC 9110 sections 8.8.3, 13.1.1, 13.1.2).
 */

/** One `entity-tag` (RFC 9110 section 8.8.3): `opaque` is the quoted string without its quotes. */
export interface EntityTag {
  weak: boolean;
  opaque: string;
}

/** The value of an `If-Match` or `If-None-Match` field: `*` (any current representation) or a list of tags. */
export type EntityTagCondition = '*' | EntityTag[];

/** `etagc = %x21 / %x23-7E / obs-text`; Node hands header bytes over as latin1, so obs-text is U+0080..U+00FF. */
const ETAGC = /^[\x21\x23-\x7e\x80-\xff]*$/;
const isOws = (c: string | undefined): boolean => c === ' ' || c === '\t';

/**
 * Parses `"*" / #entity-tag` (RFC 9110 sections 13.1.1, 13.1.2, list syntax of 5.6.1: empty elements and
 * optional whitespace around commas are allowed; `W/` is case-sensitive). A comma inside the quotes belongs
 * to the tag. Returns `undefined` when the value does not follow the grammar.
 */
export function parseEntityTagCondition(value: string): EntityTagCondition | undefined {
  const trimmed = value.replace(/^[ \t]+|[ \t]+$/g, '');
  if (trimmed === '*') return '*';
  const tags: EntityTag[] = [];
  let i = 0;
  while (i < trimmed.length) {
    while (isOws(trimmed[i])) i++;
    if (trimmed[i] === ',') {
      i++;
      continue;
    }
    const weak = trimmed.startsWith('W/', i);
    if (weak) i += 2;
    if (trimmed[i] !== '"') return undefined;
    const close = trimmed.indexOf('"', i + 1);
    if (close === -1) return undefined;
    const opaque = trimmed.slice(i + 1, close);
    if (!ETAGC.test(opaque)) return undefined;
    tags.push({ weak, opaque });
    i = close + 1;
    while (isOws(trimmed[i])) i++;
    if (i < trimmed.length && trimmed[i] !== ',') return undefined;
  }
  return tags;
}

/** Strong comparison (RFC 9110 section 8.8.3.2): both tags strong and their opaque parts equal. */
export const strongMatch = (a: EntityTag, b: EntityTag): boolean => !a.weak && !b.weak && a.opaque === b.opaque;

/** Weak comparison: the opaque parts equal, whether either tag is weak or not. */
export const weakMatch = (a: EntityTag, b: EntityTag): boolean => a.opaque === b.opaque;

/**
 * Whether an `If-Match` condition holds for a resource whose current representation has the tag
 * `current` (`undefined`: the resource has no current representation). RFC 9110 section 13.1.1: `*` holds
 * when a current representation exists; a list holds when one of its tags matches `current` by strong
 * comparison (so a weak tag never does).
 */
export function ifMatchHolds(
  condition: EntityTagCondition,
  current: string | undefined,
  exists = current !== undefined,
): boolean {
  if (condition === '*') return exists;
  const tag = current === undefined ? undefined : parseSingleTag(current);
  return tag !== undefined && condition.some((t) => strongMatch(t, tag));
}

/**
 * Whether an `If-None-Match` condition holds (RFC 9110 section 13.1.2): `*` holds when there is no current
 * representation; a list holds when none of its tags matches `current` by weak comparison.
 */
export function ifNoneMatchHolds(
  condition: EntityTagCondition,
  current: string | undefined,
  exists = current !== undefined,
): boolean {
  if (condition === '*') return !exists;
  const tag = current === undefined ? undefined : parseSingleTag(current);
  return tag === undefined || !condition.some((t) => weakMatch(t, tag));
}

function parseSingleTag(value: string): EntityTag | undefined {
  const parsed = parseEntityTagCondition(value);
  return Array.isArray(parsed) && parsed.length === 1 ? parsed[0] : undefined;
}

/** The conditional request headers, parsed; absent ones are `undefined`. */
export interface Preconditions {
  ifMatch?: EntityTagCondition;
  ifNoneMatch?: EntityTagCondition;
}

/**
 * Reads `If-Match` and `If-None-Match` from raw request headers (several field lines of one name are one
 * list, RFC 9110 section 5.3). Throws a 400 problem (`IAM_ERR_VALIDATION`, path `/headers/if-match` or
 * `/headers/if-none-match`) for a value that does not match `ENTITY_TAG_LIST_PATTERN` or is longer than
 * `MAX_PRECONDITION_LENGTH`: exactly what the documented header schemas refuse.
 */
export function readPreconditions(headers: Record<string, string | string[] | undefined>): Preconditions {
  return { ifMatch: conditionOf(headers, 'if-match'), ifNoneMatch: conditionOf(headers, 'if-none-match') };
}

/** The longest `If-Match` / `If-None-Match` value accepted (characters): the documented headers' `maxLength`. */
export const MAX_PRECONDITION_LENGTH = 2048;

/**
 * The documented syntax of `If-Match` / `If-None-Match` (the OpenAPI `pattern`): `*`, or at least one entity tag
 * (`"..."` or `W/"..."`, etagc: visible ASCII but `"`, or obs-text) in RFC 9110's list syntax (section 5.6.1: spaces
 * or tabs around commas, empty elements, which a recipient must accept and ignore). Exactly the values
 * `parseEntityTagCondition` reads, but for an empty list. A value this refuses is a 400 wherever the documented
 * header applies, and `readPreconditions` enforces it itself, because on a read it runs after the handler
 * instead of the schema binder. Every repetition starts at a comma or a quote, so matching stays linear.
 */
export const ENTITY_TAG_LIST_PATTERN = describedPattern(
  '^[ \\t]*(\\*|(,[ \\t]*)*(W/)?"[!#-~\\x80-\\xff]*"([ \\t]*,([ \\t]*(W/)?"[!#-~\\x80-\\xff]*")?)*)[ \\t]*$',
  'must be * or a list of entity tags, each quoted ("3") or weak (W/"3"), as an ETag gave them (RFC 9110 section 8.8.3)',
);
const ENTITY_TAG_LIST = new RegExp(ENTITY_TAG_LIST_PATTERN);

function conditionOf(
  headers: Record<string, string | string[] | undefined>,
  name: 'if-match' | 'if-none-match',
): EntityTagCondition | undefined {
  const raw = headers[name];
  if (raw === undefined) return undefined;
  const value = Array.isArray(raw) ? raw.join(', ') : raw;
  const parsed =
    value.length > MAX_PRECONDITION_LENGTH || !ENTITY_TAG_LIST.test(value) ? undefined : parseEntityTagCondition(value);
  if (parsed === undefined)
    throw validationProblem(
      `${name === 'if-match' ? 'If-Match' : 'If-None-Match'} must be "*" or a comma-separated list of entity tags ("..." or W/"...", RFC 9110 section 8.8.3), at most ${MAX_PRECONDITION_LENGTH} characters.`,
      [{ path: `/headers/${name}`, message: 'is not "*" or a list of entity tags' }],
    );
  return parsed;
}

/** Digests kept per frozen body (cached reads are frozen all the way down: see `write-response`). */
const frozenDigests = new WeakMap<object, string>();

/**
 * The strong entity tag of a JSON representation: `"<version>-<digest>"`, the digest being the first 16
 * base64url characters (96 bits) of the SHA-256 of the body's bytes exactly as `writeResponse` sends them.
 * Any change of the body changes the tag, also one that leaves the resource's own `version` as it was (an
 * organization's `depth` after an ancestor moved, a member's name); the version in front is for people.
 */
export function representationTag(version: number, body: unknown): string {
  const frozen = typeof body === 'object' && body !== null && Object.isFrozen(body) ? body : undefined;
  let digest = frozen === undefined ? undefined : frozenDigests.get(frozen);
  if (digest === undefined) {
    digest = createHash('sha256').update(jsonOf(body)).digest('base64url').slice(0, 16);
    if (frozen !== undefined) frozenDigests.set(frozen, digest);
  }
  return `"${version}-${digest}"`;
}
