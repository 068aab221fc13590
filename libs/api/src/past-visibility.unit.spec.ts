import { IamError } from '@arbor/domain';
import type { Principal } from '@arbor/application';
import type { ApiContext } from './api-context';
import { pastLineageShownTo } from './past-visibility';

/**
 * pastLineageShownTo on trees the e2e suite (past-lineage) does not build: which ancestors of then it keeps, given
 * today's tree (`parentNow`: each living organization's parent, null for a root; absent: deleted), the lineage each
 * deleted organization had when it ended (`endedUnder`: root first), and the organizations the caller may read
 * today (`readable`, its orgs:read; anything else is a 404 as for a stranger).
 */
function filterOver(
  parentNow: Record<string, string | null>,
  endedUnder: Record<string, string[]> = {},
  readable: string[] = [],
) {
  const parents = async (id: string) => {
    const chain: Array<{ id: string }> = [];
    for (let p = parentNow[id]; p !== undefined && p !== null; p = parentNow[p]) chain.unshift({ id: p });
    return chain;
  };
  const END = 1000;
  const ctx = {
    policy: {
      isPlatformAdmin: (p: Principal) => p.type === 'user' && p.platformAdmin === true,
      requireOnOrg: async (_p: Principal, _permission: string, id: string) => {
        if (readable.includes(id)) return { id };
        throw new IamError('IAM_ERR_NOT_FOUND', `Organization ${id} does not exist.`);
      },
    },
    readModels: {
      orgs: { parents, get: async (id: string) => (id in parentNow ? { id } : undefined) },
      history: {
        orgEndedAt: async (id: string) => (id in endedUnder ? END : undefined),
        parents: async (id: string, at: number) => {
          expect(at).toBe(END - 1);
          return (endedUnder[id] ?? []).map((p) => ({ id: p }));
        },
      },
    },
  } as unknown as ApiContext;
  const caller = { type: 'client', id: 'cli_1', orgId: 'root', scopes: ['access:evaluate'] } as unknown as Principal;
  return pastLineageShownTo(ctx, caller)!;
}

describe('pastLineageShownTo, an ancestor of then deleted since', () => {
  it('counts where it would lie today, under the nearest ancestor it had at its end, also after that moved', async () => {
    // Then: r > a > x. Since: x moved under b, a deleted under r; then r itself placed under s (a platform admin's move).
    const shown = filterOver({ s: null, r: 's', b: 'r', x: 'b' }, { a: ['r'] });
    expect(await shown('x', ['r', 'a'])).toEqual(['r', 'a']);
  });

  it('counts for no one when its lineage at its end is all gone: the organization left that tree before', async () => {
    // Then: old > a > x. Since: x moved to the tree of t, then old deleted with its subtree.
    expect(await filterOver({ t: null, x: 't' }, { a: ['old'], old: [] }, ['t', 'x'])('x', ['old', 'a'])).toEqual([]);
  });

  it('counts, in a tree left since, only for a caller who may read where it lay last', async () => {
    // Then: beta > gone > x. Since: x moved under acme, gone deleted under beta; beta lives on in its own tree.
    const today = { beta: null, acme: null, x: 'acme' };
    expect(await filterOver(today, { gone: ['beta'] })('x', ['beta', 'gone'])).toEqual([]);
    expect(await filterOver(today, { gone: ['beta'] }, ['beta'])('x', ['beta', 'gone'])).toEqual(['beta', 'gone']);
  });

  it('judges one that left for another tree before its deletion as it was judged while it lay there', async () => {
    // Then: r > d > x. Since: x moved under r, d moved into s's tree (another tenant), then deleted there. While d
    // lived under s, a caller of r's tree was not shown it; its deletion in the other tree changes nothing.
    const today = { r: null, x: 'r', s: null };
    expect(await filterOver(today, { d: ['s'] }, ['r', 'x'])('x', ['r', 'd'])).toEqual(['r']);
    // A caller who may read s today was shown d while it lived there, and still is.
    expect(await filterOver(today, { d: ['s'] }, ['s'])('x', ['r', 'd'])).toEqual(['r', 'd']);
  });

  it('is no filter for a platform admin', () => {
    const ctx = { policy: { isPlatformAdmin: () => true } } as unknown as ApiContext;
    expect(pastLineageShownTo(ctx, { type: 'user', id: 'usr_admin', platformAdmin: true } as Principal)).toBe(
      undefined,
    );
  });
});
