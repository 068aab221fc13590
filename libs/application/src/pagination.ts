import { IamError } from '@arbor/domain';
import type { Page } from './ports/read-models';

/**
 * Keyset pagination shared by every read-model adapter. Cursors are base64url JSON of the last row's
 * keyset: opaque to clients, cheap to check, and the same whichever adapter serves the next page.
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
