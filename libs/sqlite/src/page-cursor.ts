import { decodePageCursor, isRecord, type PageRequest } from '@arbor/application';

// The engine-neutral part of pagination lives in @arbor/application; this file keeps this engine's keysets.
export { decodePageCursor, emptyPage, encodePageCursor, isRecord, toPage } from '@arbor/application';

/**
 * No stored key holds U+0000 (PostgreSQL text cannot, and both engines answer alike), and SQLite's LIKE would
 * cut a pattern at one: a cursor carrying one is malformed, a search for one matches nothing.
 */
export const hasNul = (value: string): boolean => value.includes('\u0000');

/** A string key as a cursor may carry it. */
export const isKeyText = (value: unknown): value is string => typeof value === 'string' && !hasNul(value);

/** Keyset of lists ordered by id alone: the last id returned. */
export interface IdKeyset {
  i: string;
}

export const isIdKeyset = (v: unknown): v is IdKeyset => isRecord(v) && isKeyText(v.i);

/** Where an id-ordered list resumes: after the cursor's id, or from the start ('' sorts before any id). */
export const afterId = (page: PageRequest): string =>
  page.cursor === undefined ? '' : decodePageCursor(page.cursor, isIdKeyset).i;

/** The HTTP layer validates limits; this only keeps a bad value from turning into a useless query. */
export const pageLimit = (page: PageRequest): number => Math.max(1, Math.floor(page.limit));
