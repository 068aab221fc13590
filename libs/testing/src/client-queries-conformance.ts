import type { ClientView, ReadModels } from '@arbor/application';
import { ACCESS_TREE } from './access-tree';
import { collectPages } from './collect-pages';
import { Log } from './log';
import type { ReadModelsHarness } from './read-models-harness';

/** What every adapter's ClientQueries must do, as Jest tests: call it inside the adapter's `describe`. */
export function clientQueriesConformance(harness: ReadModelsHarness): void {
  let rm: ReadModels;
  let log: Log;

  beforeEach(async () => {
    rm = await harness.open();
    log = new Log();
    await rm.apply([
      ...ACCESS_TREE.map(([id, name, parent]) => log.created(id, name, parent)),
      log.clientIssued('c1', 'cid-1', 'a', ['orgs:read']),
      log.clientIssued('c2', 'cid-2', 'a11', ['orgs:read', 'users:write']),
      log.clientIssued('c3', 'cid-3', 'b', []),
      log.clientIssued('c4', 'cid-4', 'o', ['events:read']),
      log.clientIssued('c5', 'cid-5', 'a', ['users:read']),
    ]);
  });
  afterEach(() => harness.release(rm));

  const list = async (filter: { orgId?: string; withinSubtreesOf?: string[]; withinOrgs?: string[] }) =>
    (await rm.clients.list(filter, { limit: 100 })).items.map((c) => c.id);

  it('projects issued clients and forgets revoked ones', async () => {
    const c2: ClientView = {
      id: 'c2',
      clientId: 'cid-2',
      name: 'Client c2',
      orgId: 'a11',
      scopes: ['orgs:read', 'users:write'],
      roles: [],
      rolesGrantedBy: null,
      createdAt: '2024-01-01T00:00:09.000Z',
      version: 1,
    };
    expect(await rm.clients.get('c2')).toEqual(c2);
    expect(await rm.clients.getByClientId('cid-2')).toEqual(c2);
    expect(await rm.clients.get('cid-2')).toBeUndefined();
    expect(await rm.clients.getByClientId('c2')).toBeUndefined();
    expect((await rm.clients.get('c3'))?.scopes).toEqual([]);

    await rm.apply([log.clientRevoked('c2', 'cid-2', 'a11')]);
    expect(await rm.clients.get('c2')).toBeUndefined();
    expect(await rm.clients.getByClientId('cid-2')).toBeUndefined();
    expect(await list({})).toEqual(['c1', 'c3', 'c4', 'c5']);
  });

  it('reads a client issued before roles existed as holding none', async () => {
    expect(await rm.clients.get('c1')).toMatchObject({ roles: [], rolesGrantedBy: null });
  });

  it('keeps the roles of a client and the event (id, position) that last set them', async () => {
    const issued = log.clientIssued('c6', 'cid-6', 'a1', ['orgs:read'], ['admin']);
    await rm.apply([issued]);
    expect(await rm.clients.get('c6')).toMatchObject({
      roles: ['admin'],
      rolesGrantedBy: { eventId: issued.id, position: issued.position },
      version: 1,
    });
    const changed = log.clientRolesChanged('c6', 'cid-6', 'a1', ['member', 'owner']);
    await rm.apply([changed]);
    const c6 = await rm.clients.getByClientId('cid-6');
    expect(c6).toMatchObject({
      roles: ['member', 'owner'],
      rolesGrantedBy: { eventId: changed.id, position: changed.position },
      version: 2,
      scopes: ['orgs:read'],
    });
    expect((await rm.clients.list({ orgId: 'a1' }, { limit: 10 })).items).toEqual([c6]);
    await rm.apply([log.clientRolesChanged('c6', 'cid-6', 'a1', [])]);
    expect(await rm.clients.get('c6')).toMatchObject({ roles: [], rolesGrantedBy: null, version: 3 });
    // A change for a client that is gone changes nothing (a projector never fails on a fact of the log).
    await rm.apply([log.clientRolesChanged('c9', 'cid-9', 'a1', ['admin'])]);
    expect(await rm.clients.get('c9')).toBeUndefined();
  });

  it('deletes the clients of a deleted organization', async () => {
    await rm.apply([log.deleted('o', null)]);
    expect(await rm.clients.get('c4')).toBeUndefined();
    expect(await list({})).toEqual(['c1', 'c2', 'c3', 'c5']);
  });

  it('lists by organization and within subtrees', async () => {
    expect(await list({})).toEqual(['c1', 'c2', 'c3', 'c4', 'c5']);
    expect(await list({ orgId: 'a' })).toEqual(['c1', 'c5']);
    expect(await list({ orgId: 'a1' })).toEqual([]);
    expect(await list({ withinSubtreesOf: ['a'] })).toEqual(['c1', 'c2', 'c5']);
    expect(await list({ withinSubtreesOf: ['a1', 'b'] })).toEqual(['c2', 'c3']);
    expect(await list({ withinSubtreesOf: ['r'] })).toEqual(['c1', 'c2', 'c3', 'c5']);
    expect(await list({ withinSubtreesOf: [] })).toEqual([]);
    expect(await list({ withinSubtreesOf: ['b'], orgId: 'a' })).toEqual([]);
    expect(await list({ withinSubtreesOf: ['r'], orgId: 'a11' })).toEqual(['c2']);
    await rm.apply([log.moved('a1', 'a', 'b')]);
    expect(await list({ withinSubtreesOf: ['b'] })).toEqual(['c2', 'c3']);
  });

  it('lists the clients of single organizations (withinOrgs), not of those below them', async () => {
    expect(await list({ withinOrgs: ['a'] })).toEqual(['c1', 'c5']);
    expect(await list({ withinOrgs: ['a1'] })).toEqual([]);
    expect(await list({ withinOrgs: [] })).toEqual([]);
    expect(await list({ withinOrgs: [], withinSubtreesOf: [] })).toEqual([]);
    expect(await list({ withinOrgs: ['a11'], withinSubtreesOf: ['b'] })).toEqual(['c2', 'c3']);
    expect(await list({ withinOrgs: ['a'], withinSubtreesOf: ['a'] })).toEqual(['c1', 'c2', 'c5']);
    expect(await list({ withinOrgs: ['a'], orgId: 'a' })).toEqual(['c1', 'c5']);
    expect(await list({ withinOrgs: ['a'], orgId: 'b' })).toEqual([]);
    for (const limit of [1, 2, 3]) {
      const pages = await collectPages((p) => rm.clients.list({ withinOrgs: ['o', 'a'] }, p), limit);
      expect(pages.flat().map((c) => c.id)).toEqual(['c1', 'c4', 'c5']);
    }
  });

  it('pages through clients, every one exactly once', async () => {
    for (const limit of [1, 2, 3, 5]) {
      const pages = await collectPages((p) => rm.clients.list({}, p), limit);
      expect(pages.flat().map((c) => c.id)).toEqual(['c1', 'c2', 'c3', 'c4', 'c5']);
      expect(pages.every((p) => p.length > 0 && p.length <= limit)).toBe(true);
      const scoped = await collectPages((p) => rm.clients.list({ withinSubtreesOf: ['a'] }, p), limit);
      expect(scoped.flat().map((c) => c.id)).toEqual(['c1', 'c2', 'c5']);
    }
    await expect(rm.clients.list({}, { limit: 1, cursor: 'x' })).rejects.toMatchObject({ code: 'IAM_ERR_VALIDATION' });
  });
}
