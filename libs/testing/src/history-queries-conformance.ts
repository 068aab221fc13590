import type { ProjectableEvent, ReadModels } from '@arbor/application';
import { ACCESS_TREE } from './access-tree';
import { collectPages } from './collect-pages';
import { Log } from './log';
import type { ReadModelsHarness } from './read-models-harness';

const person = (id: string) => ({ email: `${id}@example.com`, name: `Person ${id}` });

/**
 * A history with every kind of change the temporal read model versions: organizations created, renamed, moved
 * with their subtree (twice, and back), deleted; memberships added (one pending, then confirmed), their roles
 * changed, removed and added again; users disabled, enabled and erased; clients issued, their roles changed,
 * revoked; roles and application permissions defined, updated, deleted.
 */
function history(log: Log): ProjectableEvent[] {
  return [
    ...ACCESS_TREE.map(([id, name, parent]) => log.created(id, name, parent)),
    log.user('u1', person('u1')),
    log.user('u2', person('u2')),
    log.user('u3', person('u3'), true),
    log.added('a', 'u1', ['admin']),
    log.added('a1', 'u2', ['member']),
    log.added('b', 'u2', ['owner'], { pending: true }),
    log.role('RoleDefined', 'role_x', 'a', ['orgs:read']),
    log.permission('ApplicationPermissionDefined', 'a', 'billing:read'),
    log.clientIssued('c1', 'client-one', 'a', ['orgs:read'], []),
    log.updated('a1', 'Alpha renamed'),
    log.moved('a1', 'a', 'b'),
    log.rolesSet('a', 'u1', ['member', 'role_x']),
    log.confirmed('b', 'u2'),
    log.created('a12', 'Alpha one two', 'a1'),
    log.userStatus('UserDisabled', 'u1'),
    log.clientRolesChanged('c1', 'client-one', 'a', ['role_x']),
    log.role('RoleUpdated', 'role_x', 'a', ['orgs:read', 'users:read'], { appliesTo: 'organization' }),
    log.permission('ApplicationPermissionUpdated', 'a', 'billing:read', 'Read bills'),
    log.moved('a1', 'b', 'o'),
    log.removed('a1', 'u2'),
    log.userStatus('UserEnabled', 'u1'),
    log.added('a1', 'u2', ['admin']),
    log.moved('a1', 'o', 'a'),
    log.clientRevoked('c1', 'client-one', 'a'),
    log.roleDeleted('role_x', 'a'),
    log.permissionDeleted('a', 'billing:read'),
    log.removed('b', 'u2'),
    log.deleted('b1', 'b'),
    log.removed('a', 'u1'),
    log.event('UserErased', 'user-u1', { userId: 'u1' }),
    log.created('b1', 'Beta one again', 'b'),
  ];
}

const ORGS = ['r', 'a', 'a1', 'a11', 'a12', 'b', 'b1', 'o', 'nope'];
const USERS = ['u1', 'u2', 'u3', 'nobody'];
/**
 * Users erased by the end of the history: the past's member lists show them erased too (personal data is not
 * versioned); their status then and the decisions about them stay as they were.
 */
const ERASED = new Set(['u1']);

/** The searches' arguments (AccessSearchQueries): subtrees and a single organization; grants on three organizations. */
const SCOPE = { subtreeRoots: ['a', 'b'], orgIds: ['o'] };
const GRANTS = [
  { orgId: 'a', roles: ['admin', 'role_x'] },
  { orgId: 'a1', roles: ['member', 'admin'] },
  { orgId: 'b', roles: ['owner'] },
];

/** Everything HistoryQueries answers, read from the present read models (the oracle) or from the past. */
type Answers = Record<string, unknown>;

async function presentAnswers(rm: ReadModels): Promise<Answers> {
  const out: Answers = {};
  for (const id of ORGS) {
    out[`org ${id}`] = (await rm.orgs.get(id)) ?? null;
    out[`parents ${id}`] = (await rm.orgs.get(id)) ? await rm.orgs.parents(id) : [];
    out[`children ${id}`] = (await rm.orgs.get(id))
      ? await collectPages((p) => rm.orgs.children(id, null, p), 2)
      : [[]];
    out[`children1 ${id}`] = (await rm.orgs.get(id)) ? await collectPages((p) => rm.orgs.children(id, 1, p), 50) : [[]];
    const members = await collectPages((p) => rm.memberships.listByOrg(id, {}, p), 1);
    out[`members ${id}`] = members.map((page) => page.map(erasedSince));
    out[`admins ${id}`] = (await rm.memberships.listByOrg(id, { role: 'admin' }, { limit: 50 })).items.map(erasedSince);
    for (const user of USERS) {
      const m = await rm.memberships.get(id, user, { includePending: true });
      out[`membership ${id} ${user}`] = m ? { roles: m.roles, pending: m.pending } : null;
    }
  }
  for (const id of USERS) {
    out[`memberships ${id}`] = await rm.memberships.listByUser(id, {});
    const user = await rm.users.get(id);
    out[`user ${id}`] = user ? { status: user.status, platformAdmin: user.platformAdmin } : null;
  }
  out['client c1'] = (await rm.clients.get('c1')) ?? null;
  out['client client-one'] = (await rm.clients.getByClientId('client-one')) ?? null;
  out.roles = await rm.roles.all();
  out.permissions = await rm.roles.permissionsVisibleAt('a11');
  out.named = await rm.roles.permissionsNamed('billing:read');
  out.subtrees = await rm.search.orgIdsAfter(SCOPE, '', 100);
  out.subtreesAfter = await rm.search.orgIdsAfter(SCOPE, 'a1', 2);
  out.all = await rm.search.orgIdsAfter('all', '', 100);
  out.userIds = await rm.search.userIdsAfter(GRANTS, true, '', 100);
  out.members = await rm.search.userIdsAfter(GRANTS, false, 'u1', 1);
  out.clients = await rm.search.clientsAfter(['a', 'r'], 'orgs:read', '', 50);
  out.roleClients = await rm.search.clientsAfter(['a', 'r'], 'users:write', '', 50, [
    { orgId: 'a', roles: ['role_x'] },
  ]);
  return out;
}

/** An org user as the past shows it: a user erased since reads as erased. */
function erasedSince<T extends { userId: string; email: string | null; name: string | null; status: string }>(m: T): T {
  return ERASED.has(m.userId) ? { ...m, email: null, name: null, status: 'erased' } : m;
}

async function pastAnswers(rm: ReadModels, at: number): Promise<Answers> {
  const h = rm.history;
  const out: Answers = {};
  for (const id of ORGS) {
    out[`org ${id}`] = (await h.org(id, at)) ?? null;
    out[`parents ${id}`] = await h.parents(id, at);
    out[`children ${id}`] = await collectPages((p) => h.children(id, at, null, p), 2);
    out[`children1 ${id}`] = await collectPages((p) => h.children(id, at, 1, p), 50);
    out[`members ${id}`] = await collectPages((p) => h.members(id, at, {}, p), 1);
    out[`admins ${id}`] = (await h.members(id, at, { role: 'admin' }, { limit: 50 })).items;
    for (const user of USERS) out[`membership ${id} ${user}`] = (await h.membership(id, user, at)) ?? null;
  }
  for (const id of USERS) {
    out[`memberships ${id}`] = await h.memberships(id, at);
    out[`user ${id}`] = (await h.user(id, at)) ?? null;
  }
  out['client c1'] = (await h.client('c1', at)) ?? null;
  out['client client-one'] = (await h.clientByClientId('client-one', at)) ?? null;
  out.roles = await h.roles(at);
  // permissionsVisibleAt('a11') names a11's ancestors then; the past's are read from the past tree.
  const chain = [...(await h.parents('a11', at)).map((o) => o.id), 'a11'];
  const visible = await h.permissionsOn(chain, at);
  out.permissions = chain.flatMap((org) => visible.filter((p) => p.orgId === org));
  out.named = await h.permissionsNamed('billing:read', at);
  out.subtrees = await h.orgIdsAfter(SCOPE, at, '', 100);
  out.subtreesAfter = await h.orgIdsAfter(SCOPE, at, 'a1', 2);
  out.all = await h.orgIdsAfter('all', at, '', 100);
  out.userIds = await h.userIdsAfter(GRANTS, true, at, '', 100);
  out.members = await h.userIdsAfter(GRANTS, false, at, 'u1', 1);
  out.clients = await h.clientsAfter(['a', 'r'], 'orgs:read', at, '', 50);
  out.roleClients = await h.clientsAfter(['a', 'r'], 'users:write', at, '', 50, [{ orgId: 'a', roles: ['role_x'] }]);
  return out;
}

/**
 * What every adapter's HistoryQueries must do, as Jest tests: call it inside the adapter's `describe`. The oracle is
 * the adapter's own present read models: the history is applied one event at a time, every present answer is
 * recorded after each, and at the end the past at each position must answer exactly what the present did then.
 */
export function historyQueriesConformance(harness: ReadModelsHarness): void {
  let rm: ReadModels;
  beforeEach(async () => {
    rm = await harness.open();
  });
  afterEach(() => harness.release(rm));

  it('answers at every past position what the present read models answered then', async () => {
    const events = history(new Log());
    const then: Answers[] = [await presentAnswers(rm)];
    for (const event of events) {
      await rm.apply([event]);
      then.push(await presentAnswers(rm));
    }
    for (let at = 0; at <= events.length; at++) {
      const past = await pastAnswers(rm, at);
      for (const key of Object.keys(then[at]))
        expect({ at, key, answer: past[key] }).toEqual({ at, key, answer: then[at][key] });
    }
  });

  it("ends the versions of what an organization's deletion removed without events of their own (a backstop)", async () => {
    const log = new Log();
    const events = [
      log.created('x', 'Doomed', null),
      log.user('u', person('u')),
      log.added('x', 'u', ['admin']),
      log.role('RoleDefined', 'role_doomed', 'x', ['orgs:read']),
      log.permission('ApplicationPermissionDefined', 'x', 'doomed:read'),
      log.clientIssued('cx', 'client-x', 'x', ['orgs:read'], []),
      log.deleted('x', null),
    ];
    await rm.apply(events);
    const before = events.length - 1;
    const h = rm.history;
    expect(await h.membership('x', 'u', before)).toEqual({ roles: ['admin'], pending: false });
    expect((await h.roles(before)).map((r) => r.id)).toEqual(['role_doomed']);
    expect((await h.permissionsNamed('doomed:read', before)).map((p) => p.orgId)).toEqual(['x']);
    expect((await h.client('cx', before))?.clientId).toBe('client-x');
    const after = events.length;
    expect(await h.membership('x', 'u', after)).toBeUndefined();
    expect(await h.roles(after)).toEqual([]);
    expect(await h.permissionsNamed('doomed:read', after)).toEqual([]);
    expect(await h.client('cx', after)).toBeUndefined();
    expect(await h.memberships('u', after)).toEqual([]);
  });

  it("keeps a client credential's last version after it ended (revoked, or ended with its organization), and an organization's end", async () => {
    const log = new Log();
    const events = [
      log.created('r', 'Root', null),
      log.created('x', 'Doomed', 'r'),
      log.clientIssued('ca', 'client-a', 'r', ['orgs:read'], []),
      log.clientIssued('cr', 'client-r', 'r', ['orgs:read'], []),
      log.clientRolesChanged('cr', 'client-r', 'r', ['role_y']),
      log.clientRevoked('cr', 'client-r', 'r'),
      log.clientIssued('cx', 'client-x', 'x', ['users:read'], []),
      log.deleted('x', 'r'),
    ];
    await rm.apply(events);
    const h = rm.history;
    expect(await h.lastClientByClientId('client-x')).toMatchObject({
      client: { id: 'cx', clientId: 'client-x', orgId: 'x', scopes: ['users:read'] },
      endedAt: 8,
    });
    const active = await h.lastClientByClientId('client-a');
    expect(active).toMatchObject({ client: { id: 'ca', orgId: 'r', scopes: ['orgs:read'] }, endedAt: null });
    expect(active).toEqual({ client: await rm.clients.getByClientId('client-a'), endedAt: null });
    // Its state when revoked (position 6), roles included: what the present read models held just before.
    const revoked = await h.lastClientByClientId('client-r');
    expect(revoked).toEqual({ client: await h.clientByClientId('client-r', 5), endedAt: 6 });
    expect(revoked?.client).toMatchObject({ id: 'cr', orgId: 'r', roles: ['role_y'] });
    expect(await rm.clients.getByClientId('client-r')).toBeUndefined();
    expect(await h.lastClientByClientId('client-x')).toEqual({
      client: await h.clientByClientId('client-x', 7),
      endedAt: 8,
    });
    expect(await h.lastClientByClientId('client-none')).toBeUndefined();
    expect(await h.lastClientByClientId('cr')).toBeUndefined();
    // The organization's end: its deletion's position; none while it exists or when it never did.
    expect(await h.orgEndedAt('x')).toBe(8);
    expect((await h.parents('x', 7)).map((o) => o.id)).toEqual(['r']);
    expect(await h.orgEndedAt('r')).toBeUndefined();
    expect(await h.orgEndedAt('never')).toBeUndefined();
  });

  it('rebuilds the same history from the log', async () => {
    const events = history(new Log());
    await rm.apply(events);
    const before = await pastAnswers(rm, 20);
    await rm.reset();
    await rm.apply(events);
    expect(await pastAnswers(rm, 20)).toEqual(before);
  });

  it("rebuilds the same past when the erased users' keys are gone (their personal data arrives as null)", async () => {
    const events = history(new Log());
    const atEvery = async () => {
      const answers: Answers[] = [];
      for (let at = 0; at <= events.length; at++) answers.push(await pastAnswers(rm, at));
      return answers;
    };
    await rm.apply(events);
    const live = await atEvery();
    // What a rebuild reads after an erasure: the user's data key is destroyed, so their events open to nothing.
    const keyGone = events.map((e) =>
      (e.type === 'UserCreated' || e.type === 'UserUpdated') && ERASED.has((e.data as { userId: string }).userId)
        ? { ...e, personal: null }
        : e,
    );
    await rm.reset();
    await rm.apply(keyGone);
    expect(await atEvery()).toEqual(live);
  });

  it('pages the past as the present: by depth, then name, then id, a cursor resuming after its last row', async () => {
    const log = new Log();
    const names: Record<string, string> = { c: 'Zed', a: 'Yak', b: 'Xu', d: 'Wa' };
    const events = [
      log.created('r', 'Root', null),
      ...Object.entries(names).map(([id, name]) => log.created(id, name, 'r')),
      log.created('a1', 'Aa', 'a'),
    ];
    await rm.apply(events);
    const pages = await collectPages((p) => rm.history.children('r', events.length, null, p), 3);
    expect(pages.map((page) => page.map((o) => `${o.id}@${o.depth}`))).toEqual([
      ['d@1', 'b@1', 'a@1'],
      ['c@1', 'a1@2'],
    ]);
    expect(await rm.history.children('r', 0, null, { limit: 10 })).toEqual({ items: [], nextCursor: null });
  });
}
