import { IamError } from '@arbor/domain';

/** Cursors are base64url JSON of the last row's keyset: opaque to clients, cheap to check here. */
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
