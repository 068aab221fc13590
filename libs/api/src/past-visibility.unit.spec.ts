import { IamError } from '@arbor/domain';
import type { Principal } from '@arbor/application';
import type { ApiContext } from './api-context';
import { pastLineageShownTo } from './past-visibility';

/**
 * pastLineageShownTo on trees the e2e suite (past-lineage) does not build: which ancestors of then it keeps, given
 * today's tree (`parentNow`: each living organization's parent, null for a root; absent: deleted) and the
 * organizations the caller may read today (`readable`, its orgs:read; anything else is a 404 as for a stranger).
 */
function filterOver(parentNow: Record<string, string | null>, readable: string[] = []) {
  const parents = async (id: string) => {
    const chain: Array<{ id: string }> = [];
    for (let p = parentNow[id]; p !== undefined && p !== null; p = parentNow[p]) chain.unshift({ id: p });
    return chain;
  };
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
    },
  } as unknown as ApiContext;
  const caller = { type: 'client', id: 'cli_1', orgId: 'root', scopes: ['access:evaluate'] } as unknown as Principal;
  return pastLineageShownTo(ctx, caller)!;
}

describe('pastLineageShownTo, an ancestor of then deleted since', () => {
  it('counts where the root of then lies today in the organization’s tree, also after that root was moved', async () => {
    // Then: r > a > x. Since: x moved under b, a deleted; then r itself placed under s (a platform admin's move).
    const shown = filterOver({ s: null, r: 's', b: 'r', x: 'b' });
    expect(await shown('x', ['r', 'a'])).toEqual(['r', 'a']);
  });

  it('counts for no one when the root of then is deleted too: the organization left that tree before', async () => {
    // Then: old > a > x. Since: x moved to the tree of t, then old deleted with its subtree.
    expect(await filterOver({ t: null, x: 't' }, ['t', 'x'])('x', ['old', 'a'])).toEqual([]);
  });

  it('counts, in a tree left since, only for a caller who may read that tree’s root today', async () => {
    // Then: beta > gone > x. Since: x moved under acme, gone deleted; beta lives on in its own tree.
    const today = { beta: null, acme: null, x: 'acme' };
    expect(await filterOver(today)('x', ['beta', 'gone'])).toEqual([]);
    expect(await filterOver(today, ['beta'])('x', ['beta', 'gone'])).toEqual(['beta', 'gone']);
  });

  it('is no filter for a platform admin', () => {
    const ctx = { policy: { isPlatformAdmin: () => true } } as unknown as ApiContext;
    expect(pastLineageShownTo(ctx, { type: 'user', id: 'usr_admin', platformAdmin: true } as Principal)).toBe(
      undefined,
    );
  });
});
