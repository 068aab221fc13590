import { decodePageCursor, isRecord, type PageRequest } from '@arbor/application';

// The engine-neutral part of pagination lives in @arbor/application; this file keeps this engine's keysets.
export { decodePageCursor, emptyPage, encodePageCursor, isRecord, toPage } from '@arbor/application';

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
