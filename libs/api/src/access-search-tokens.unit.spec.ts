import { randomBytes } from 'node:crypto';
import { IamError } from '@arbor/domain';
import { KeyedDigest, type SecretVault } from '@arbor/application';
import { searchPageTokens } from './access-search-tokens';

/** A KeyedDigest over a fixed key: the vault is not what these rules are about. */
const digestWith = (key: Buffer): KeyedDigest =>
  new KeyedDigest({ ensureDataKey: async () => key } as unknown as SecretVault, 'system:page-cursor-key');
const digest = digestWith(randomBytes(32));

const query = (page: Record<string, unknown> = {}, action = 'orgs:read'): Record<string, unknown> => ({
  subject: { type: 'user', id: 'usr_1' },
  action: { name: action },
  resource: { type: 'organization' },
  page: { limit: 2, ...page },
});

/** The `next_token` a first page of `body` ending at `lastKey` answers. */
const issued = async (body: Record<string, unknown>, lastKey: string, operation = 'searchResources') =>
  (await searchPageTokens(digest, operation, body, 2)).bind(lastKey);

/** The IamError details of opening `body`'s token, or undefined when it opens. */
const refusal = async (body: Record<string, unknown>, operation = 'searchResources', d = digest) => {
  try {
    // The limit as the routes apply it: the body's, or the default.
    await searchPageTokens(d, operation, body, (body.page as { limit?: number }).limit ?? 2);
    return undefined;
  } catch (e) {
    expect(e).toBeInstanceOf(IamError);
    expect((e as IamError).code).toBe('IAM_ERR_VALIDATION');
    return (e as IamError).errors;
  }
};

describe('searchPageTokens (OpenID Authorization API 1.0, "Pagination")', () => {
  it('a first page resumes at the start; its next_token resumes after the last key, and binds the next one', async () => {
    const first = await searchPageTokens(digest, 'searchResources', query(), 2);
    expect(first.after).toBe('');
    expect(first.bind(null)).toBe('');
    const token = first.bind('org_b');
    expect(token).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{22}$/);
    const second = await searchPageTokens(digest, 'searchResources', query({ token }), 2);
    expect(second.after).toBe('org_b');
    const third = await searchPageTokens(digest, 'searchResources', query({ token: second.bind('org_d') }), 2);
    expect(third.after).toBe('org_d');
  });

  it('member order does not matter, the limit counts as applied', async () => {
    const token = await issued(query(), 'org_b');
    const reordered = {
      page: { token, limit: 2 },
      resource: { type: 'organization' },
      action: { name: 'orgs:read' },
      subject: { id: 'usr_1', type: 'user' },
    };
    expect((await searchPageTokens(digest, 'searchResources', reordered, 2)).after).toBe('org_b');
    const { limit: _limit, ...noLimit } = query({ token }).page as Record<string, unknown>;
    expect((await searchPageTokens(digest, 'searchResources', { ...query(), page: noLimit }, 2)).after).toBe('org_b');
  });

  it('refuses, naming /body/page/token, a token of another search, operation, limit, key, or an altered one', async () => {
    const token = await issued(query(), 'org_b');
    const [keyset, tag] = token.split('.');
    const other = Buffer.from('org_z').toString('base64url');
    const flipped = `${tag.slice(0, -1)}${tag.endsWith('A') ? 'B' : 'A'}`;
    const refused = [
      await refusal(query({ token }, 'orgs:write')),
      await refusal(query({ token }), 'searchSubjects'),
      await refusal(query({ token, limit: 3 })),
      await refusal(query({ token }), 'searchResources', digestWith(randomBytes(32))),
      await refusal(query({ token: `${other}.${tag}` })),
      await refusal(query({ token: `${keyset}.${flipped}` })),
      await refusal(query({ token: `${keyset}.${tag}x` })),
      await refusal(query({ token: keyset })),
      await refusal(query({ token: 7 })),
    ];
    expect(refused).toEqual(
      refused.map(() => [{ path: '/body/page/token', message: 'is not a token of this search' }]),
    );
  });
});
