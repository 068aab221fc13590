import { decodePageCursor, isRecord, type PageRequest } from '@arbor/application';

// The engine-neutral part of pagination lives in @arbor/application; this file keeps this engine's keysets,
// the same as the SQL adapters' (a cursor from one adapter resumes in another).
export { decodePageCursor, emptyPage, encodePageCursor, isRecord, toPage } from '@arbor/application';

/**
 * FerretDB keeps documents in PostgreSQL jsonb, which cannot hold U+0000: no stored key contains it, so a value
 * that does matches nothing and is never sent. Cursors carrying one are malformed.
 */
export const hasNul = (value: string): boolean => value.includes('\u0000');

/** A string that can be stored or compared (no U+0000). */
export const isStorable = (value: unknown): value is string => typeof value === 'string' && !hasNul(value);

/** Keyset of lists ordered by id alone: the last id returned. */
export interface IdKeyset {
  i: string;
}

export const isIdKeyset = (v: unknown): v is IdKeyset => isRecord(v) && isStorable(v.i);

/** Where an id-ordered list resumes: after the cursor's id, or from the start ('' sorts before any id). */
export const afterId = (page: PageRequest): string =>
  page.cursor === undefined ? '' : decodePageCursor(page.cursor, isIdKeyset).i;

/** The HTTP layer validates limits; this only keeps a bad value from turning into a useless query. */
export const pageLimit = (page: PageRequest): number =>
  Number.isFinite(page.limit) ? Math.max(1, Math.min(Math.floor(page.limit), MAX_LIMIT)) : 1;

const MAX_LIMIT = 1_000_000_000;

/** `q` as an anchored-nowhere regular expression matching the text literally ("contains"). */
export const containsRegex = (key: string): RegExp => new RegExp(key.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
