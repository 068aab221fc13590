import type { Page, PageRequest } from '@arbor/application';
import { IamError } from '@arbor/domain';

/**
 * Cursors are base64url JSON of the last row's keyset, exactly as in the SQLite adapter, so a cursor means
 * the same thing whichever adapter serves the next page.
 */
export const encodePageCursor = (keyset: unknown): string =>
  Buffer.from(JSON.stringify(keyset), 'utf8').toString('base64url');

const BASE64URL = /^[A-Za-z0-9_-]+$/;

/** Decodes a cursor and checks its shape; anything malformed is the client's error (IAM_ERR_VALIDATION). */
export function decodePageCursor<T>(cursor: string, isKeyset: (value: unknown) => value is T): T {
  let value: unknown;
  try {
    // Node's base64url decoder silently skips foreign characters: check the alphabet first.
    if (!BASE64URL.test(cursor)) throw new Error('not base64url');
    value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalidCursor();
  }
  if (!isKeyset(value)) throw invalidCursor();
  return value;
}

const invalidCursor = (): IamError =>
  new IamError('IAM_ERR_VALIDATION', 'The cursor is not valid.', [
    { path: '/query/cursor', message: 'is not a valid cursor' },
  ]);

export const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * PostgreSQL text cannot hold U+0000 (a parameter carrying one fails the query), so no stored key contains
 * it: a value that does can match nothing. Cursors carrying one are malformed; lookups return nothing.
 */
export const hasNul = (value: string): boolean => value.includes('\u0000');

/** A string that PostgreSQL can take as a text parameter. */
export const isPgText = (value: unknown): value is string => typeof value === 'string' && !hasNul(value);

/** Keyset of lists ordered by id alone: the last id returned. */
export interface IdKeyset {
  i: string;
}

export const isIdKeyset = (v: unknown): v is IdKeyset => isRecord(v) && isPgText(v.i);

/** Where an id-ordered list resumes: after the cursor's id, or from the start ('' sorts before any id). */
export const afterId = (page: PageRequest): string =>
  page.cursor === undefined ? '' : decodePageCursor(page.cursor, isIdKeyset).i;

/** The HTTP layer validates limits; this only keeps a bad value from turning into a useless query. */
export const pageLimit = (page: PageRequest): number =>
  Number.isFinite(page.limit) ? Math.max(1, Math.min(Math.floor(page.limit), MAX_LIMIT)) : 1;

/** Far above any page the HTTP layer allows; keeps `limit + 1` a valid bigint parameter. */
const MAX_LIMIT = 1_000_000_000;

/**
 * Turns `limit + 1` fetched rows into a page: the extra row only tells that a next page exists, and the
 * cursor is the keyset of the last row returned.
 */
export function toPage<R, V>(rows: R[], limit: number, toView: (row: R) => V, keyset: (last: R) => unknown): Page<V> {
  const hasMore = rows.length > limit;
  const items = hasMore ? rows.slice(0, limit) : rows;
  return {
    items: items.map(toView),
    nextCursor: hasMore ? encodePageCursor(keyset(items[items.length - 1])) : null,
  };
}

export const emptyPage = <T>(): Page<T> => ({ items: [], nextCursor: null });
