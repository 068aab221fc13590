import { timingSafeEqual } from 'node:crypto';
import { IamError } from '@arbor/domain';
import type { KeyedDigest } from '@arbor/application';
import { describedPattern } from '@arbor/http';

/**
 * AuthZEN search page tokens (OpenID Authorization API 1.0, "Pagination"), bound to their query like the
 * API's page cursors (page-cursors.ts): `<keyset>.<tag>`, the keyset the base64url of the last id returned,
 * the tag the first 128 bits of HMAC-SHA-256 (RFC 2104, base64url) under the vault key
 * `system:page-cursor-key` over the search's identity and the keyset. The identity is the operation and the
 * whole request but `page.token`, with `page.limit` defaulted: the specification requires every other
 * member to stay identical from page to page, and a token presented with anything else changed (or edited)
 * is a 400 naming `/body/page/token`.
 */

const TAG_LENGTH = 22;

/** What every token this module issues looks like (the request schema's `page.token` pattern). */
export const SEARCH_TOKEN_PATTERN = describedPattern(
  `^[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]{${TAG_LENGTH}}$`,
  'must be a page token as an answer gave it (its page.next_token)',
);

/** JSON with object members sorted, so that member order (which JSON does not fix) does not matter. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** The identity of a search request: everything but the token, the limit as applied. */
function identity(operation: string, body: Record<string, unknown>, limit: number): string {
  const page = (body.page ?? {}) as Record<string, unknown>;
  const { token: _token, ...rest } = page;
  return canonical([operation, { ...body, page: { ...rest, limit } }]);
}

/** What one search request does with page tokens: where it resumes, and the token after its last result. */
export interface SearchPageTokens {
  /** The id after which this page starts ('' without `page.token`: the first page). */
  after: string;
  /** The `next_token` for a page that ended at `lastKey`, or '' when this was the last page. */
  bind(lastKey: string | null): string;
}

/**
 * Opens the request's `page.token` (if any) and prepares the `next_token` of its answer, computing the
 * search's identity (canonical JSON of the whole request) once and tagging with the digest's loaded key
 * synchronously: a continued page costs one identity and two HMACs, not two of each plus two vault awaits
 * (`node bench/search-pages-micro.mjs`). The token is bound exactly as before: HMAC over identity and keyset,
 * compared in constant time.
 * @throws IamError IAM_ERR_VALIDATION (`/body/page/token`) when the token was not issued for this very
 *   search, or was altered.
 */
export async function searchPageTokens(
  digest: KeyedDigest,
  operation: string,
  body: Record<string, unknown>,
  limit: number,
): Promise<SearchPageTokens> {
  const hmac = await digest.digester();
  const id = identity(operation, body, limit);
  const tagOf = (keyset: string): string => hmac(`${id}\n${keyset}`).slice(0, TAG_LENGTH);
  const token = ((body.page ?? {}) as { token?: unknown }).token;
  return {
    after: token === undefined ? '' : verify(token, tagOf),
    bind: (lastKey) => {
      if (lastKey === null) return '';
      const keyset = Buffer.from(lastKey, 'utf8').toString('base64url');
      return `${keyset}.${tagOf(keyset)}`;
    },
  };
}

/** The id inside `token` when its tag is the one `tagOf` gives its keyset (compared in constant time). */
function verify(token: unknown, tagOf: (keyset: string) => string): string {
  const dot = typeof token === 'string' ? token.lastIndexOf('.') : -1;
  const keyset = dot > 0 ? (token as string).slice(0, dot) : '';
  const sent = Buffer.from(dot > 0 ? (token as string).slice(dot + 1) : '');
  const expected = Buffer.from(tagOf(keyset));
  // In constant time, so that timing does not reveal how much of a forged tag was right.
  if (dot <= 0 || sent.length !== expected.length || !timingSafeEqual(sent, expected))
    throw new IamError(
      'IAM_ERR_VALIDATION',
      'The page token was not issued for this search with these members, or was altered: start again without a token.',
      [{ path: '/body/page/token', message: 'is not a token of this search' }],
    );
  return Buffer.from(keyset, 'base64url').toString('utf8');
}

/** What page tokens are bound to: the body and the point in time asked (a token of one past serves no other). */
export const pageBinding = (req: {
  body: unknown;
  query: { asOf?: string; asOfPosition?: number };
}): Record<string, unknown> => ({
  ...(req.body as Record<string, unknown>),
  ...(req.query.asOf === undefined ? {} : { '?asOf': req.query.asOf }),
  ...(req.query.asOfPosition === undefined ? {} : { '?asOfPosition': req.query.asOfPosition }),
});
