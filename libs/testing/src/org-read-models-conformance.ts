import type { OrgView, Page, PageRequest, ProjectableEvent, ReadModels } from '@arbor/application';
import { IamError } from '@arbor/domain';
import { Log } from './log';
import type { ReadModelsHarness } from './read-models-harness';

// Ids sort in creation order (as real ids do), which differs from name order on purpose.
//   r "Acme"                      o "Other"
//   ├─ b "beta"
//   │  ├─ bz "Zeta" ── bzd "deep"
//   │  ├─ ba "alpha"
//   │  └─ bg "Gamma"
//   ├─ a "Alpha" ── ag "gamma"
//   └─ c "Charlie"
export const ORG_TREE: Array<[string, string, string | null]> = [
  ['r', 'Acme', null],
  ['b', 'beta', 'r'],
  ['bz', 'Zeta', 'b'],
  ['a', 'Alpha', 'r'],
  ['ag', 'gamma', 'a'],
  ['c', 'Charlie', 'r'],
  ['ba', 'alpha', 'b'],
  ['bg', 'Gamma', 'b'],
  ['bzd', 'deep', 'bz'],
  ['o', 'Other', null],
];

export const orgIds = (items: OrgView[]): string[] => items.map((o) => o.id);

/** Every page of a paged organization query, as ids (bounded, so a cursor loop fails instead of hanging). */
export async function collectOrgIds(
  fetch: (page: PageRequest) => Promise<Page<OrgView>>,
  limit: number,
): Promise<string[][]> {
  const pages: string[][] = [];
  let cursor: string | undefined;
  do {
    const page = await fetch({ limit, cursor });
    pages.push(orgIds(page.items));
    cursor = page.nextCursor ?? undefined;
  } while (cursor !== undefined && pages.length < 100);
  return pages;
}

/**
 * What every adapter's organization read models (and the users and checkpoint they share) must do, as Jest
 * tests: call it inside the adapter's `describe` with a harness that can also `reopen` the same storage.
 */
export function orgReadModelsConformance(harness: ReadModelsHarness & { reopen(): Promise<ReadModels> }): void {
  let rm: ReadModels;
  let log: Log;
  let batch: ProjectableEvent[];

  beforeEach(async () => {
    rm = await harness.open();
    log = new Log();
    batch = ORG_TREE.map(([id, name, parent]) => log.created(id, name, parent));
    expect(await rm.apply(batch)).toBe(10);
  });
  afterEach(() => harness.release(rm));

  const children = async (id: string, depth: number | null) =>
    orgIds((await rm.orgs.children(id, depth, { limit: 100 })).items);
  /** The ancestors as `parents` lists them, checked against `ancestorIds` (the same ids, the same order). */
  const parents = async (id: string) => {
    const ids = orgIds(await rm.orgs.parents(id));
    expect(await rm.orgs.ancestorIds(id)).toEqual(ids);
    return ids;
  };

  it('projects organizations with depth, metadata, times and versions', async () => {
    expect(await rm.orgs.get('bzd')).toEqual({
      id: 'bzd',
      name: 'deep',
      parentId: 'bz',
      description: null,
      metadata: { n: 'deep' },
      depth: 3,
      createdAt: '2024-01-01T00:00:09.000Z',
      updatedAt: '2024-01-01T00:00:09.000Z',
      version: 1,
    });
    expect(await rm.orgs.get('nope')).toBeUndefined();
    expect(await rm.orgs.get('nul\u0000')).toBeUndefined();
    expect(await rm.checkpoint()).toBe(10);
  });

  it('lists descendants by depth, then case-insensitive name, then id', async () => {
    expect(await children('r', 1)).toEqual(['a', 'b', 'c']);
    expect(await children('r', 2)).toEqual(['a', 'b', 'c', 'ba', 'ag', 'bg', 'bz']);
    expect(await children('r', null)).toEqual(['a', 'b', 'c', 'ba', 'ag', 'bg', 'bz', 'bzd']);
    expect(await children('b', null)).toEqual(['ba', 'bg', 'bz', 'bzd']);
    expect(await children('bzd', null)).toEqual([]);
    expect(await children('r', 2 ** 40)).toEqual(['a', 'b', 'c', 'ba', 'ag', 'bg', 'bz', 'bzd']);
  });

  it('pages through descendants and lists, every item exactly once', async () => {
    for (const limit of [1, 2, 3, 7, 8]) {
      const pages = await collectOrgIds((p) => rm.orgs.children('r', null, p), limit);
      expect(pages.flat()).toEqual(['a', 'b', 'c', 'ba', 'ag', 'bg', 'bz', 'bzd']);
      expect(pages.every((p) => p.length <= limit && p.length > 0)).toBe(true);
      const listed = await collectOrgIds((p) => rm.orgs.list({}, p), limit);
      expect(listed.flat()).toEqual(ORG_TREE.map(([id]) => id).sort());
    }
    const last = await rm.orgs.children('r', 1, { limit: 3 });
    expect(last.nextCursor).toBeNull();
  });

  it('lists ancestors root first, and their ids alone in the same order', async () => {
    expect(await parents('bzd')).toEqual(['r', 'b', 'bz']);
    expect(await parents('r')).toEqual([]);
    expect(await parents('nope')).toEqual([]);
    expect(await rm.orgs.ancestorIds('nul\u0000')).toEqual([]);
    // A caller may extend the list it gets (the SQLite adapter's comes from a shared cache).
    const ids = await rm.orgs.ancestorIds('bz');
    ids.push('bz');
    expect(await rm.orgs.ancestorIds('bz')).toEqual(['r', 'b']);
  });

  it('moves a subtree: closure, depths and parent are rewritten', async () => {
    await rm.apply([log.moved('b', 'r', 'ag')]);
    expect(await parents('bzd')).toEqual(['r', 'a', 'ag', 'b', 'bz']);
    expect(await children('r', 1)).toEqual(['a', 'c']);
    expect(await children('a', null)).toEqual(['ag', 'b', 'ba', 'bg', 'bz', 'bzd']);
    expect(await children('b', null)).toEqual(['ba', 'bg', 'bz', 'bzd']);
    expect(await rm.orgs.get('b')).toMatchObject({
      parentId: 'ag',
      depth: 3,
      version: 2,
      updatedAt: '2024-01-01T00:00:11.000Z',
    });
    expect((await rm.orgs.get('bzd'))?.depth).toBe(5);
    expect((await rm.orgs.get('bzd'))?.parentId).toBe('bz');

    await rm.apply([log.moved('b', 'ag', null)]);
    expect(await parents('bzd')).toEqual(['b', 'bz']);
    expect(await children('r', null)).toEqual(['a', 'c', 'ag']);
    expect((await rm.orgs.get('b'))?.depth).toBe(0);
    expect((await rm.orgs.get('bzd'))?.depth).toBe(2);
    expect(orgIds((await rm.orgs.list({ parentId: null }, { limit: 10 })).items)).toEqual(['b', 'o', 'r']);
  });

  it('renames: the new name orders the descendants', async () => {
    await rm.apply([log.updated('c', 'aardvark')]);
    expect(await children('r', 1)).toEqual(['c', 'a', 'b']);
    expect(await rm.orgs.get('c')).toMatchObject({
      name: 'aardvark',
      description: 'renamed',
      metadata: {},
      version: 2,
    });
    await rm.apply([log.updated('bz', 'Beta-2')]);
    expect(await children('b', 1)).toEqual(['ba', 'bz', 'bg']);
  });

  it('deletes an organization and its links', async () => {
    await rm.apply([log.deleted('bzd', 'bz')]);
    expect(await rm.orgs.get('bzd')).toBeUndefined();
    expect(await children('r', null)).not.toContain('bzd');
    expect(await parents('bzd')).toEqual([]);
  });

  it('applies a batch twice with no effect, and skips what lies at or below the checkpoint', async () => {
    expect(await rm.apply(batch)).toBe(10);
    expect(await children('r', null)).toEqual(['a', 'b', 'c', 'ba', 'ag', 'bg', 'bz', 'bzd']);
    const rename = log.updated('a', 'zzz');
    expect(await rm.apply([...batch, rename, rename])).toBe(11);
    expect(await rm.apply([rename])).toBe(11);
    expect((await rm.orgs.get('a'))?.version).toBe(2);
    expect(await children('r', null)).toEqual(['b', 'c', 'a', 'ba', 'ag', 'bg', 'bz', 'bzd']);
    expect(await rm.checkpoint()).toBe(11);
  });

  it('advances the checkpoint over unknown event types, and survives reopening', async () => {
    expect(await rm.apply([log.event('SomethingNew', 'x-1', {})])).toBe(11);
    expect(await rm.apply([])).toBe(11);
    await rm.close();
    await expect(rm.checkpoint()).rejects.toThrow('closed');
    rm = await harness.reopen();
    expect(await rm.checkpoint()).toBe(11);
    expect(await children('r', 1)).toEqual(['a', 'b', 'c']);
  });

  it('resets to empty, ready for a rebuild', async () => {
    await rm.apply([
      log.user('u1', { email: 'a@b.c', name: 'A' }),
      log.added('r', 'u1', ['owner']),
      log.clientIssued('c1', 'cid-1', 'r', []),
    ]);
    expect(await rm.memberships.get('r', 'u1')).toBeDefined();
    expect(await rm.clients.get('c1')).toBeDefined();
    await rm.reset();
    expect(await rm.checkpoint()).toBe(0);
    expect(await rm.orgs.get('r')).toBeUndefined();
    expect(await rm.users.get('u1')).toBeUndefined();
    expect(await rm.memberships.membershipRoots('u1')).toEqual([]);
    expect(await rm.clients.get('c1')).toBeUndefined();
    expect((await rm.orgs.list({}, { limit: 10 })).items).toEqual([]);
    expect(await rm.orgs.children('r', null, { limit: 10 })).toEqual({ items: [], nextCursor: null });
    expect(await rm.apply(batch)).toBe(10);
    expect(await children('r', null)).toEqual(['a', 'b', 'c', 'ba', 'ag', 'bg', 'bz', 'bzd']);
  });

  it('lists with parentId, q and withinSubtreesOf', async () => {
    const list = async (filter: Parameters<ReadModels['orgs']['list']>[0]) =>
      orgIds((await rm.orgs.list(filter, { limit: 100 })).items);
    expect(await list({ parentId: null })).toEqual(['o', 'r']);
    expect(await list({ parentId: 'r' })).toEqual(['a', 'b', 'c']);
    expect(await list({ q: 'ALP' })).toEqual(['a', 'ba']);
    expect(await list({ q: 'eta' })).toEqual(['b', 'bz']);
    expect(await list({ withinSubtreesOf: ['b'] })).toEqual(['b', 'ba', 'bg', 'bz', 'bzd']);
    expect(await list({ withinSubtreesOf: ['bz', 'a', 'o'] })).toEqual(['a', 'ag', 'bz', 'bzd', 'o']);
    expect(await list({ withinSubtreesOf: [] })).toEqual([]);
    expect(await list({ withinSubtreesOf: ['bz', 'b', 'b'] })).toEqual(['b', 'ba', 'bg', 'bz', 'bzd']);
    for (const limit of [1, 2, 4]) {
      const pages = await collectOrgIds((p) => rm.orgs.list({ withinSubtreesOf: ['bz', 'a', 'b'] }, p), limit);
      expect(pages.flat()).toEqual(['a', 'ag', 'b', 'ba', 'bg', 'bz', 'bzd']);
    }
    expect((await collectOrgIds((p) => rm.orgs.list({ q: 'a', parentId: 'r' }, p), 1)).flat()).toEqual(['a', 'b', 'c']);
    expect(await list({ withinSubtreesOf: ['b'], q: 'ma', parentId: 'b' })).toEqual(['bg']);
    expect(await list({ withinSubtreesOf: ['a'], q: 'ma' })).toEqual(['ag']);
    expect(await list({ withinSubtreesOf: [], parentId: 'r' })).toEqual([]);
    expect(await list({ q: 'a\u0000' })).toEqual([]);
  });

  it('lists with withinOrgs: single organizations, not what lies below them, with withinSubtreesOf their union', async () => {
    const list = async (filter: Parameters<ReadModels['orgs']['list']>[0]) =>
      orgIds((await rm.orgs.list(filter, { limit: 100 })).items);
    expect(await list({ withinOrgs: ['b'] })).toEqual(['b']);
    expect(await list({ withinOrgs: ['bz', 'a', 'bz'] })).toEqual(['a', 'bz']);
    expect(await list({ withinOrgs: ['bz'], withinSubtreesOf: ['a'] })).toEqual(['a', 'ag', 'bz']);
    expect(await list({ withinOrgs: ['a'], withinSubtreesOf: ['a'] })).toEqual(['a', 'ag']);
    expect(await list({ withinOrgs: [] })).toEqual([]);
    expect(await list({ withinOrgs: [], withinSubtreesOf: [] })).toEqual([]);
    expect(await list({ withinOrgs: ['nope'] })).toEqual([]);
    expect(await list({ withinOrgs: ['b', 'ba'], parentId: 'b' })).toEqual(['ba']);
    expect(await list({ withinOrgs: ['r', 'o'], parentId: null })).toEqual(['o', 'r']);
    expect(await list({ withinOrgs: ['ag', 'bz'], q: 'ma' })).toEqual(['ag']);
    expect(await list({ withinOrgs: ['ag', 'bz'], q: 'ma', parentId: 'a' })).toEqual(['ag']);
    for (const limit of [1, 2, 4]) {
      const pages = await collectOrgIds(
        (p) => rm.orgs.list({ withinSubtreesOf: ['bz'], withinOrgs: ['o', 'b', 'a'] }, p),
        limit,
      );
      expect(pages.flat()).toEqual(['a', 'b', 'bz', 'bzd', 'o']);
      const children = await collectOrgIds(
        (p) => rm.orgs.list({ withinOrgs: ['bg', 'ba', 'a'], parentId: 'b' }, p),
        limit,
      );
      expect(children.flat()).toEqual(['ba', 'bg']);
    }

    await rm.apply([
      log.created('p1', '100% Pure', null),
      log.created('p2', '1000 Pure', null),
      log.created('p3', 'a_b', null),
      log.created('p4', 'axb', null),
    ]);
    expect(await list({ q: '0%' })).toEqual(['p1']);
    expect(await list({ q: 'a_' })).toEqual(['p3']);
    expect(await list({ q: 'ÄRVÍ' })).toEqual([]);
    await rm.apply([log.created('p5', 'Kärvík', null)]);
    expect(await list({ q: 'ÄRVÍ' })).toEqual(['p5']);
  });

  it('rejects a malformed cursor with IAM_ERR_VALIDATION', async () => {
    const bad = [
      'not a cursor!',
      Buffer.from('{not json').toString('base64url'),
      Buffer.from('[1,2]').toString('base64url'),
      Buffer.from('{"d":"1","k":"x","i":"y"}').toString('base64url'),
      Buffer.from('{"d":0,"k":"x","i":"y"}').toString('base64url'),
      Buffer.from('{"d":4294967296,"k":"x","i":"y"}').toString('base64url'),
      Buffer.from('{"d":1,"k":"x\\u0000","i":"y"}').toString('base64url'),
      '',
    ];
    for (const cursor of bad) {
      const err = await rm.orgs.children('r', null, { limit: 2, cursor }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(IamError);
      expect(err).toMatchObject({ code: 'IAM_ERR_VALIDATION', errors: [{ path: '/query/cursor' }] });
    }
    const listCursor = (await rm.orgs.list({}, { limit: 1 })).nextCursor!;
    await expect(rm.orgs.children('r', null, { limit: 2, cursor: listCursor })).rejects.toMatchObject({
      code: 'IAM_ERR_VALIDATION',
    });
    await expect(rm.orgs.list({}, { limit: 2, cursor: 'e30' })).rejects.toMatchObject({ code: 'IAM_ERR_VALIDATION' });
    const nulId = Buffer.from('{"i":"a\\u0000"}').toString('base64url');
    await expect(rm.orgs.list({}, { limit: 2, cursor: nulId })).rejects.toMatchObject({ code: 'IAM_ERR_VALIDATION' });
  });

  it('projects users, finds them by email case-insensitively, and marks erased ones', async () => {
    await rm.apply([
      log.event(
        'UserCreated',
        'user-u1',
        { userId: 'u1', personal: 'v1.a.b', platformAdmin: true },
        { email: 'Ann@Example.COM', name: 'Ann' },
      ),
      log.event('UserCreated', 'user-u2', { userId: 'u2', personal: 'v1.c.d', platformAdmin: false }, null),
    ]);
    expect(await rm.users.findByEmail('ann@example.com')).toEqual({
      id: 'u1',
      email: 'Ann@Example.COM',
      name: 'Ann',
      status: 'active',
      platformAdmin: true,
      createdAt: '2024-01-01T00:00:11.000Z',
      updatedAt: '2024-01-01T00:00:11.000Z',
      version: 1,
      sessionsNotBefore: null,
      keptSessionId: null,
    });
    expect(await rm.users.findByEmail('other@example.com')).toBeUndefined();
    // Data that no longer opens is cleared; the user reads as erased once the log says so (UserErased).
    expect(await rm.users.get('u2')).toMatchObject({ email: null, name: null, status: 'active', platformAdmin: false });
    await rm.apply([log.event('UserErased', 'user-u2', { userId: 'u2' })]);
    expect(await rm.users.get('u2')).toMatchObject({ email: null, name: null, status: 'erased', platformAdmin: false });
  });
}
