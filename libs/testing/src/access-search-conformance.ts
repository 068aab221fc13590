import type { AccessSearchQueries, ProjectableEvent, ReadModels } from '@arbor/application';
import { ACCESS_TREE } from './access-tree';
import { Log } from './log';
import type { ReadModelsHarness } from './read-models-harness';

/** Every id of a search, page after page of `limit`, each page resuming after the last id of the one before. */
async function pages(
  next: (after: string, limit: number) => Promise<string[]>,
  limit: number,
  between?: (page: number) => Promise<void>,
): Promise<string[]> {
  const out: string[] = [];
  let after = '';
  for (let page = 1; ; page++) {
    const ids = await next(after, limit);
    expect(ids.length).toBeLessThanOrEqual(limit);
    out.push(...ids);
    if (ids.length < limit) return out;
    after = ids[ids.length - 1];
    if (between) await between(page);
  }
}

const sorted = (ids: string[]) => [...ids].sort();

/** What every adapter's AccessSearchQueries must do, as Jest tests: call it inside the adapter's `describe`. */
export function accessSearchConformance(harness: ReadModelsHarness): void {
  let rm: ReadModels;
  let search: AccessSearchQueries;
  let log: Log;
  /** A deep chain under `a11`: d0 .. d11 (depth 4..15), and 30 leaves under d5. */
  const deep = Array.from({ length: 12 }, (_, i) => `d${String(i).padStart(2, '0')}`);
  const leaves = Array.from({ length: 30 }, (_, i) => `l${String(i).padStart(2, '0')}`);
  const all = [...ACCESS_TREE.map(([id]) => id), ...deep, ...leaves];

  beforeEach(async () => {
    rm = await harness.open();
    search = rm.search;
    log = new Log();
    const setup: ProjectableEvent[] = [
      ...ACCESS_TREE.map(([id, name, parent]) => log.created(id, name, parent)),
      ...deep.map((id, i) => log.created(id, id, i === 0 ? 'a11' : deep[i - 1])),
      ...leaves.map((id) => log.created(id, id, 'd05')),
      log.user('u1', { email: 'ann@example.com', name: 'Ann' }),
      log.user('u2', { email: 'bob@example.com', name: 'Bob' }),
      log.user('u3', { email: 'cy@example.com', name: 'Cy' }),
      log.user('u4', { email: 'di@example.com', name: 'Di' }),
      log.user('pa', { email: 'pa@example.com', name: 'Pa' }, true),
      log.user('px', { email: 'px@example.com', name: 'Px' }, true),
      log.userStatus('UserDisabled', 'px'),
      log.added('a', 'u1', ['admin']),
      log.added('a1', 'u2', ['member', 'admin']),
      log.added('d05', 'u3', ['admin']),
      log.added('r', 'u4', ['member']),
      log.added('b', 'u4', ['admin'], { pending: true }),
      log.clientIssued('c1', 'cli_1', 'a', ['orgs:read']),
      log.clientIssued('c2', 'cli_2', 'a1', ['orgs:read', 'orgs:write']),
      log.clientIssued('c3', 'cli_3', 'b', ['orgs:read']),
    ];
    await rm.apply(setup);
  });
  afterEach(() => harness.release(rm));

  it('lists every organization in id order, page after page', async () => {
    expect(await pages((after, limit) => search.orgIdsAfter('all', after, limit), 7)).toEqual(sorted(all));
  });

  it('merges overlapping subtrees and single organizations, each id once, at every page size', async () => {
    const scope = { subtreeRoots: ['a1', 'd05', 'b', 'd10'], orgIds: ['o', 'b1', 'missing'] };
    const expected = sorted(['a1', 'a11', ...deep, ...leaves, 'b', 'b1', 'o']);
    for (const limit of [1, 2, 5, 13, 100])
      expect(await pages((after, l) => search.orgIdsAfter(scope, after, l), limit)).toEqual(expected);
    expect(await search.orgIdsAfter({ subtreeRoots: [], orgIds: [] }, '', 10)).toEqual([]);
    expect(await search.orgIdsAfter({ subtreeRoots: ['missing'], orgIds: [] }, '', 10)).toEqual([]);
  });

  it('resumes strictly after the keyset while the tree changes: no id twice, survivors once', async () => {
    const scope = { subtreeRoots: ['d05'], orgIds: [] };
    const before = await search.orgIdsAfter(scope, '', 1000);
    const ids = await pages(
      (after, limit) => search.orgIdsAfter(scope, after, limit),
      4,
      async (page) => {
        if (page !== 2) return;
        // l20 leaves, l99 arrives: one grant of the subtree ends, another begins.
        await rm.apply([log.deleted('l20', 'd05'), log.created('l99', 'l99', 'd05')]);
      },
    );
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of before.filter((i) => i !== 'l20')) expect(ids.filter((i) => i === id)).toHaveLength(1);
    expect(ids).not.toContain('l20');
    expect(ids).toContain('l99');
  });

  it('lists active users holding one of the roles per organization, and active platform admins', async () => {
    // Who may write in d05: admins on d05 or above (a, a1, d05), platform admins; not u4 (member; pending admin on b).
    const grants = ['r', 'a', 'a1', 'a11', ...deep.slice(0, 6)].map((orgId) => ({ orgId, roles: ['admin', 'owner'] }));
    for (const limit of [1, 2, 10])
      expect(await pages((after, l) => search.userIdsAfter(grants, true, after, l), limit)).toEqual([
        'pa',
        'u1',
        'u2',
        'u3',
      ]);
    expect(await search.userIdsAfter(grants, false, '', 10)).toEqual(['u1', 'u2', 'u3']);
    expect(await search.userIdsAfter([{ orgId: 'b', roles: ['admin'] }], false, '', 10)).toEqual([]);
    expect(await search.userIdsAfter([{ orgId: 'r', roles: ['member'] }], false, '', 10)).toEqual(['u4']);
    expect(await search.userIdsAfter([{ orgId: 'r', roles: [] }], false, '', 10)).toEqual([]);
    await rm.apply([log.userStatus('UserDisabled', 'u2')]);
    expect(await search.userIdsAfter(grants, false, '', 10)).toEqual(['u1', 'u3']);
  });

  it('lists client credentials of the organizations whose scopes include the permission, in id order', async () => {
    const path = ['r', 'a', 'a1', 'a11'];
    expect(await search.clientsAfter(path, 'orgs:read', '', 10)).toEqual([
      { id: 'c1', clientId: 'cli_1' },
      { id: 'c2', clientId: 'cli_2' },
    ]);
    expect(await search.clientsAfter(path, 'orgs:read', 'c1', 1)).toEqual([{ id: 'c2', clientId: 'cli_2' }]);
    expect(await search.clientsAfter(path, 'orgs:write', '', 10)).toEqual([{ id: 'c2', clientId: 'cli_2' }]);
    await rm.apply([log.clientRevoked('c2', 'cli_2', 'a1')]);
    expect(await search.clientsAfter(path, 'orgs:write', '', 10)).toEqual([]);
  });

  it('lists client credentials holding a granting role on a grant organization too, each once, page after page', async () => {
    await rm.apply([
      log.clientIssued('c4', 'cli_4', 'a1', ['users:read'], ['role_x', 'member']),
      log.clientIssued('c5', 'cli_5', 'a', [], ['role_y']),
      log.clientIssued('c6', 'cli_6', 'b', [], ['role_x']),
      log.clientIssued('c7', 'cli_7', 'a', ['orgs:read'], ['role_x']),
    ]);
    const path = ['r', 'a', 'a1', 'a11'];
    const grants = [
      { orgId: 'a', roles: ['role_x', 'role_z'] },
      { orgId: 'a1', roles: ['role_x'] },
      { orgId: 'a11', roles: [] },
    ];
    const expected = ['c1', 'c2', 'c4', 'c7'];
    const clientIds = async (after: string, limit: number) =>
      (await search.clientsAfter(path, 'orgs:read', after, limit, grants)).map((c) => c.id);
    for (const limit of [1, 2, 10]) expect(await pages(clientIds, limit)).toEqual(expected);
    expect(await search.clientsAfter(path, 'orgs:read', 'c2', 1, grants)).toEqual([{ id: 'c4', clientId: 'cli_4' }]);
    // Without grants, as before: scopes only.
    expect((await search.clientsAfter(path, 'orgs:read', '', 10)).map((c) => c.id)).toEqual(['c1', 'c2', 'c7']);
    // Roles changed away, the client is gone from the grants' part.
    await rm.apply([log.clientRolesChanged('c4', 'cli_4', 'a1', ['member'])]);
    expect(await clientIds('', 10)).toEqual(['c1', 'c2', 'c7']);
  });
}
