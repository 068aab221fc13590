import { timingSafeEqual } from 'node:crypto';
import { IamError } from '@arbor/domain';
import type { KeyedDigest } from '@arbor/application';
import type { HandlerRequest } from '@arbor/http';

/**
 * Page cursors bound to the list that issued them (contract section 1, "Lists").
 *
 * A read model's cursor is the keyset of the last row it returned (base64url JSON, or a log position): edited
 * by hand, or presented to another list or with other filters, it would still decode and answer 200 with an
 * empty or shifted page. So the API hands out `<keyset cursor>.<tag>`, where tag is the first 128 bits of
 * HMAC-SHA-256 (RFC 2104, base64url, 22 characters) under the vault key `system:page-cursor-key` over the
 * list's identity (the operation, its path parameters and every query parameter but `limit` and `cursor`,
 * defaults applied) and the keyset cursor. A cursor whose tag does not verify is a 400 IAM_ERR_VALIDATION
 * naming `/query/cursor`. The key is shared by every gateway (it lives in the vault), so any gateway
 * accepts the cursors of any other; `limit` may change from page to page.
 */

const TAG_LENGTH = 22;

/** The identity of the list `req` asks for: the operation, its path parameters, its filters. */
function listIdentity(operation: string, req: Pick<HandlerRequest, 'params' | 'query'>): string {
  const { limit: _limit, cursor: _cursor, ...filters } = req.query;
  const sortedEntries = (o: Record<string, unknown>) =>
    Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return JSON.stringify([operation, sortedEntries(req.params ?? {}), sortedEntries(filters)]);
}

const tagOf = async (digest: KeyedDigest, identity: string, keyset: string): Promise<string> =>
  (await digest.digest(`${identity}\n${keyset}`)).slice(0, TAG_LENGTH);

/** The cursor the client gets for `keyset` (a read model's next cursor), or null on the last page. */
export async function bindPageCursor(
  digest: KeyedDigest,
  operation: string,
  req: Pick<HandlerRequest, 'params' | 'query'>,
  keyset: string | null,
): Promise<string | null> {
  if (keyset === null) return null;
  return `${keyset}.${await tagOf(digest, listIdentity(operation, req), keyset)}`;
}

/**
 * The read model's cursor inside the client's `?cursor=` (undefined when none was sent).
 * @throws IamError IAM_ERR_VALIDATION when the cursor was not issued by this list with these filters, or was altered.
 */
export async function openPageCursor(
  digest: KeyedDigest,
  operation: string,
  req: Pick<HandlerRequest, 'params' | 'query'>,
): Promise<string | undefined> {
  const cursor: unknown = req.query.cursor;
  if (cursor === undefined) return undefined;
  const dot = typeof cursor === 'string' ? cursor.lastIndexOf('.') : -1;
  const keyset = dot > 0 ? (cursor as string).slice(0, dot) : '';
  const sent = Buffer.from(dot > 0 ? (cursor as string).slice(dot + 1) : '');
  const expected = Buffer.from(await tagOf(digest, listIdentity(operation, req), keyset));
  // In constant time, so that timing does not reveal how much of a forged tag was right.
  if (dot <= 0 || sent.length !== expected.length || !timingSafeEqual(sent, expected)) {
    throw new IamError(
      'IAM_ERR_VALIDATION',
      'The cursor was not issued by this list with these filters, or was altered: start again without a cursor.',
      [{ path: '/query/cursor', message: 'is not a cursor of this list and these filters' }],
    );
  }
  return keyset;
}
