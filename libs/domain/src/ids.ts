import { v7 as uuidv7 } from 'uuid';
import { pooledRandomBytes } from './random-pool';

const CROCKFORD = '0123456789abcdefghjkmnpqrstvwxyz';

/**
 * Opaque, time-ordered identifiers (ULID layout: 48-bit millisecond time, 80 random bits, Crockford base32,
 * lower case) behind a type prefix such as `org_`. Lexical order follows creation time, which gives lists a
 * stable default order for free; clients must still treat ids as opaque.
 */
export function newId(prefix: string, now: number = Date.now()): string {
  let out = '';
  let t = now;
  for (let i = 9; i >= 0; i--) {
    out = CROCKFORD[t % 32] + out;
    t = Math.floor(t / 32);
  }
  const rnd = pooledRandomBytes(10);
  // 80 bits -> 16 base32 characters, 5 bits at a time.
  let acc = 0;
  let bits = 0;
  for (const byte of rnd) {
    acc = (acc << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out += CROCKFORD[(acc >> bits) & 31];
    }
    acc &= (1 << bits) - 1;
  }
  return `${prefix}_${out}`;
}

/**
 * An identifier of `newId`'s shape whose first ten characters are random too, for things whose creation time
 * is nobody's business: a user's id is handed to callers who may not see the account (an add by email of a
 * hidden account answers with it), so a time in it would date the account and tell that it existed before.
 */
export function newUntimedId(prefix: string): string {
  return newId(prefix, pooledRandomBytes(6).readUIntBE(0, 6));
}

/**
 * The creation time (ms since the epoch) that `newId` wrote into an id, or undefined for anything that is not
 * such an id (ids of other shapes, e.g. UUIDs of older records).
 */
export function idTime(id: string): number | undefined {
  const ulid = id.slice(id.lastIndexOf('_') + 1);
  if (ulid.length !== 26) return undefined;
  let t = 0;
  for (let i = 0; i < 10; i++) {
    const digit = CROCKFORD.indexOf(ulid[i]);
    if (digit < 0) return undefined;
    t = t * 32 + digit;
  }
  return t;
}

/**
 * The prefix of each kind of id a command names: the stream ids of organizations, users and client
 * credentials (`cli_` client_ids are minted by the command service and never named by a caller).
 */
export const ID_PREFIXES = {
  org: 'org',
  user: 'usr',
  clientCredential: 'cc',
  role: 'role',
  webhook: 'whk',
} as const;

export type IdKind = keyof typeof ID_PREFIXES;

/** `newId`'s output: the prefix, `_`, then 26 lower-case Crockford base32 characters (the first <= 7: 48-bit time). */
const ULID_BODY = '[0-7][0-9abcdefghjkmnpqrstvwxyz]{25}';
const GRAMMARS: Record<IdKind, RegExp> = {
  org: new RegExp(`^${ID_PREFIXES.org}_${ULID_BODY}$`),
  user: new RegExp(`^${ID_PREFIXES.user}_${ULID_BODY}$`),
  clientCredential: new RegExp(`^${ID_PREFIXES.clientCredential}_${ULID_BODY}$`),
  role: new RegExp(`^${ID_PREFIXES.role}_${ULID_BODY}$`),
  webhook: new RegExp(`^${ID_PREFIXES.webhook}_${ULID_BODY}$`),
};

/** A client_id as the command service mints them (`newId('cli')`): `cli_`, then the same 26 characters. */
const CLIENT_ID_GRAMMAR = new RegExp(`^cli_${ULID_BODY}$`);

/** Whether `value` has the form of a client_id Arbor mints (`cli_01kb3x...`): never personal data. */
export const isMintedClientId = (value: unknown): value is string =>
  typeof value === 'string' && CLIENT_ID_GRAMMAR.test(value);

/**
 * Whether `value` is an id of `kind` in the grammar `newId` writes (e.g. `usr_01kb3x...`, 30 characters).
 * Commands accept no other shape: an id names a stream, a URL path segment and a vault row for good, so one
 * that the public paths refuse (`bad id/..`), that a route reads as something else (`me`), or that could be
 * mistaken for another namespace (a `cli_` client_id, `arbor-first-party`, the vault's `system:*` keys) must
 * never be created.
 */
export const isIdOf = (kind: IdKind, value: unknown): value is string =>
  typeof value === 'string' && GRAMMARS[kind].test(value);

/**
 * The ids a read may name (a URL path segment, a filter, the CLI's `--org`): 1-100 letters, digits, `_` and `-`.
 * Wider than `isIdOf`, which is what commands create, since a read of an id of another shape is a plain 404
 * (an older record's, a typo), never an injection: the API's path and filter schemas and the CLI share this rule.
 */
export const READABLE_ID = { source: '^[A-Za-z0-9_-]+$', minLength: 1, maxLength: 100 } as const;

const READABLE_ID_GRAMMAR = new RegExp(READABLE_ID.source);

/** Whether `value` is a READABLE_ID: a string of 1-100 letters, digits, `_` and `-`. */
export const isReadableId = (value: unknown): value is string =>
  typeof value === 'string' && value.length <= READABLE_ID.maxLength && READABLE_ID_GRAMMAR.test(value);

/**
 * A new event id: a UUIDv7 (RFC 9562 section 5.7; the `uuid` package): 48 bits of Unix milliseconds, then random
 * bits, in the usual 8-4-4-4-12 hex form. Ids made by one process increase (the package keeps a counter within a
 * millisecond), so an event store's unique index on ids grows at its end (one page written per commit) instead of
 * gaining a random page per event as version 4 ids made it. Ids made before (version 4) stay valid: callers and
 * subscribers treat ids as opaque (CloudEvents `id`, deduplication).
 */
export function newEventId(): string {
  return uuidv7();
}
