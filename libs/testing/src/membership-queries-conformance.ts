import type { ProjectableEvent, ReadModels } from '@arbor/application';
import { ACCESS_TREE } from './access-tree';
import { collectPages } from './collect-pages';
import { Log } from './log';
import type { ReadModelsHarness } from './read-models-harness';

/** What every adapter's MembershipQueries must do, as Jest tests: call it inside the adapter's `describe`. */
export function membershipQueriesConformance(harness: ReadModelsHarness): void {
  let rm: ReadModels;
  let log: Log;
  let setup: ProjectableEvent[];

  beforeEach(async () => {
    rm = await harness.open();
    log = new Log();
    setup = [
      ...ACCESS_TREE.map(([id, name, parent]) => log.created(id, name, parent)),
      log.user('u1', { email: 'ann@example.com', name: 'Ann' }),
      log.user('u2', { email: 'bob@example.com', name: 'Bob' }),
      log.user('u3', { email: 'ARVID@x.org', name: 'Ärvid' }),
      log.user('u4', null),
      log.added('r', 'u1', ['member']),
      log.added('a1', 'u1', ['admin']),
      log.added('a', 'u2', ['owner', 'member']),
      log.added('a11', 'u2', ['member']),
      log.added('b1', 'u3', ['admin']),
      log.added('a', 'u4', ['member']),
    ];
    await rm.apply(setup);
  });
  afterEach(() => harness.release(rm));

  const userIds = async (orgId: string, filter: Parameters<ReadModels['memberships']['listByOrg']>[1]) =>
    (await rm.memberships.listByOrg(orgId, filter, { limit: 100 })).items.map((m) => m.userId);

  it('projects a membership joined with its user, and follows role changes and removal', async () => {
    expect(await rm.memberships.get('a', 'u2')).toEqual({
      orgId: 'a',
      userId: 'u2',
      email: 'bob@example.com',
      name: 'Bob',
      status: 'active',
      roles: ['member', 'owner'],
      addedAt: '2024-01-01T00:00:14.000Z',
      version: 1,
      pending: false,
      userVersion: 1,
    });
    expect(await rm.memberships.get('a', 'u1')).toBeUndefined();
    // u4's data no longer opens (a rebuild after an erasure): cleared, and the status is the log's until UserErased.
    expect(await rm.memberships.get('a', 'u4')).toMatchObject({ email: null, name: null, status: 'active' });
    await rm.apply([log.event('UserErased', 'user-u4', { userId: 'u4' })]);
    expect(await rm.memberships.get('a', 'u4')).toMatchObject({ email: null, name: null, status: 'erased' });

    await rm.apply([log.rolesSet('a', 'u2', ['admin'])]);
    expect(await rm.memberships.get('a', 'u2')).toMatchObject({
      roles: ['admin'],
      addedAt: '2024-01-01T00:00:14.000Z',
      version: 2,
    });
    // The user's own change is the user's: the membership's version stays (contract section 1).
    await rm.apply([log.userUpdated('u2', { email: 'bob@example.com', name: 'Robert' })]);
    expect(await rm.memberships.get('a', 'u2')).toMatchObject({ name: 'Robert', version: 2, userVersion: 2 });

    await rm.apply([log.removed('a', 'u2')]);
    expect(await rm.memberships.get('a', 'u2')).toBeUndefined();
    expect(await userIds('a', {})).toEqual(['u4']);
    const readdedAt = log.nextAt();
    await rm.apply([log.added('a', 'u2', ['member'])]);
    // Added again: a new membership, counted from 1 (its stream goes on at version 4).
    expect(await rm.memberships.get('a', 'u2')).toMatchObject({ roles: ['member'], addedAt: readdedAt, version: 1 });
  });

  it('applies the same events again with no effect', async () => {
    const change = [log.rolesSet('b1', 'u3', ['member']), log.removed('a11', 'u2')];
    await rm.apply(change);
    const before = await rm.memberships.listByUser('u3', {});
    expect(await rm.apply([...setup, ...change])).toBe(change[1].position);
    expect(await rm.memberships.listByUser('u3', {})).toEqual(before);
    expect(await rm.memberships.get('a11', 'u2')).toBeUndefined();
    expect(await rm.memberships.get('b1', 'u3')).toMatchObject({ roles: ['member'], version: 2 });
  });

  it('deletes the memberships of a deleted organization', async () => {
    await rm.apply([log.deleted('a11', 'a1')]);
    expect(await rm.memberships.get('a11', 'u2')).toBeUndefined();
    expect((await rm.memberships.membershipRoots('u2')).map((m) => m.orgId)).toEqual(['a']);
    expect(await rm.memberships.effectiveRoles('u2', 'a11')).toEqual([]);
  });

  it('derives effective roles from memberships on the organization and every ancestor', async () => {
    expect(await rm.memberships.effectiveRoles('u1', 'a11')).toEqual(['member', 'admin']);
    expect(await rm.memberships.effectiveRoles('u1', 'a')).toEqual(['member']);
    expect(await rm.memberships.effectiveRoles('u1', 'b1')).toEqual(['member']);
    expect(await rm.memberships.effectiveRoles('u2', 'a11')).toEqual(['member', 'owner']);
    expect(await rm.memberships.effectiveRoles('u2', 'r')).toEqual([]);
    expect(await rm.memberships.effectiveRoles('u2', 'b1')).toEqual([]);
    expect(await rm.memberships.effectiveRoles('u3', 'b1')).toEqual(['admin']);
    expect(await rm.memberships.effectiveRoles('u3', 'b')).toEqual([]);
    expect(await rm.memberships.effectiveRoles('u1', 'o')).toEqual([]);
    expect(await rm.memberships.effectiveRoles('u1', 'nope')).toEqual([]);
    expect(await rm.memberships.effectiveRoles('nobody', 'a11')).toEqual([]);
  });

  it('answers access questions in one call: the organization, the user and exactly the effective roles', async () => {
    await rm.apply([
      log.user('pa', { email: 'pa@example.com', name: 'Pat' }, true),
      log.userStatus('UserDisabled', 'u3'),
      log.added('a1', 'u3', ['owner'], { pending: true }),
    ]);
    const pairs = [
      { userId: 'u1', orgId: 'a11' },
      { userId: 'u2', orgId: 'r' },
      { userId: 'u3', orgId: 'b1' },
      { userId: 'u3', orgId: 'a11' },
      { userId: 'pa', orgId: 'o' },
      { userId: 'nobody', orgId: 'a' },
      { userId: 'u1', orgId: 'nope' },
      { userId: null, orgId: 'b' },
      { userId: 'u1', orgId: 'a11' },
    ];
    const facts = await rm.memberships.accessQuestions(pairs);
    expect(facts).toEqual([
      {
        org: { id: 'a11', parentId: 'a1' },
        user: { status: 'active', platformAdmin: false },
        roles: ['member', 'admin'],
      },
      { org: { id: 'r', parentId: null }, user: { status: 'active', platformAdmin: false }, roles: [] },
      { org: { id: 'b1', parentId: 'b' }, user: { status: 'disabled', platformAdmin: false }, roles: ['admin'] },
      { org: { id: 'a11', parentId: 'a1' }, user: { status: 'disabled', platformAdmin: false }, roles: [] },
      { org: { id: 'o', parentId: null }, user: { status: 'active', platformAdmin: true }, roles: [] },
      { org: { id: 'a', parentId: 'r' }, user: undefined, roles: [] },
      { org: undefined, user: { status: 'active', platformAdmin: false }, roles: [] },
      { org: { id: 'b', parentId: 'r' }, user: undefined, roles: [] },
      {
        org: { id: 'a11', parentId: 'a1' },
        user: { status: 'active', platformAdmin: false },
        roles: ['member', 'admin'],
      },
    ]);
    for (const [i, { userId, orgId }] of pairs.entries())
      expect(facts[i].roles).toEqual(userId === null ? [] : await rm.memberships.effectiveRoles(userId, orgId));
    // A user with many direct memberships (an adapter may find their roles from the other side): the same answer.
    const many = Array.from({ length: 20 }, (_, i) => `o${String(i).padStart(2, '0')}`);
    await rm.apply([
      log.user('u5', { email: 'many@example.com', name: 'Many' }),
      ...many.map((id) => log.created(id, id, 'o')),
      ...many.map((id) => log.added(id, 'u5', ['member'])),
      log.added('a', 'u5', ['admin']),
      log.added('o', 'u5', ['owner']),
    ]);
    const manyFacts = await rm.memberships.accessQuestions([
      { userId: 'u5', orgId: 'a11' },
      { userId: 'u5', orgId: 'o07' },
      { userId: 'u5', orgId: 'b' },
    ]);
    expect(manyFacts.map((f) => f.roles)).toEqual([['admin'], ['member', 'owner'], []]);
    expect(await rm.memberships.accessQuestions([{ userId: 'u5', orgId: 'o07' }])).toEqual([manyFacts[1]]);
    // One pair is the single-question path of an adapter; it answers the same.
    expect(await rm.memberships.accessQuestions([pairs[2]])).toEqual([facts[2]]);
    expect(await rm.memberships.accessQuestions([])).toEqual([]);
  });

  it('answers access questions the same at every batch size and around the many-memberships bound', async () => {
    // Users with 15 to 18 direct memberships on organizations whose ids sort before 'r', where one membership
    // holds the role inherited below: an adapter that reads only a user's first memberships must not miss it.
    const side = Array.from({ length: 17 }, (_, i) => `c${String(i).padStart(2, '0')}`);
    const heavy = [15, 16, 17, 18].map((n) => ({ id: `h${n}`, others: n - 1 }));
    await rm.apply([
      ...side.map((id) => log.created(id, id, 'o')),
      ...heavy.flatMap(({ id, others }) => [
        log.user(id, { email: `${id}@example.com`, name: id }),
        ...side.slice(0, others).map((org) => log.added(org, id, ['member'])),
        log.added('r', id, ['admin']),
      ]),
    ]);
    for (const { id } of heavy)
      expect(await rm.memberships.accessQuestions([{ userId: id, orgId: 'a11' }])).toEqual([
        { org: { id: 'a11', parentId: 'a1' }, user: { status: 'active', platformAdmin: false }, roles: ['admin'] },
      ]);
    // Batches of many sizes (an adapter may split them into statements of at most 100, leaving chunks of one or
    // of 99) answer as each question asked alone.
    const users = ['u1', 'u2', 'u3', 'u4', 'nobody', null, ...heavy.map((h) => h.id)];
    const orgs = [...ACCESS_TREE.map(([id]) => id), 'nope', ...side];
    const pairs = Array.from({ length: 201 }, (_, i) => ({
      userId: users[i % users.length],
      orgId: orgs[(i * 7) % orgs.length],
    }));
    const alone = await Promise.all(pairs.map(async (pair) => (await rm.memberships.accessQuestions([pair]))[0]));
    for (const size of [2, 99, 100, 101, 199, 201]) {
      const batch = await rm.memberships.accessQuestions(pairs.slice(0, size));
      expect(batch).toHaveLength(size);
      for (const [i, pair] of pairs.slice(0, size).entries())
        expect([size, pair, batch[i]]).toEqual([size, pair, alone[i]]);
    }
    expect(alone.filter((f) => f.roles.length > 0).length).toBeGreaterThan(20);
  });

  it('moves inherited roles with a moved subtree', async () => {
    await rm.apply([log.moved('b', 'r', 'a1')]);
    expect(await rm.memberships.effectiveRoles('u2', 'b1')).toEqual(['member', 'owner']);
    expect(await rm.memberships.effectiveRoles('u1', 'b1')).toEqual(['member', 'admin']);
    expect(await rm.memberships.effectiveRoles('u3', 'b1')).toEqual(['admin']);

    await rm.apply([log.moved('a1', 'a', 'o'), log.added('o', 'u3', ['owner'])]);
    expect(await rm.memberships.effectiveRoles('u2', 'a11')).toEqual(['member']);
    expect(await rm.memberships.effectiveRoles('u1', 'a11')).toEqual(['admin']);
    expect(await rm.memberships.effectiveRoles('u3', 'b1')).toEqual(['admin', 'owner']);
    expect(await rm.memberships.effectiveRoles('u2', 'b1')).toEqual([]);
  });

  it("lists an organization's members by role and by email or name", async () => {
    await rm.apply([
      log.user('u5', { email: 'percent@x.org', name: '100% Pure' }),
      log.user('u6', { email: 'under_score@x.org', name: '1000 Pure' }),
      log.added('a', 'u1', ['admin']),
      log.added('a', 'u3', ['member', 'admin']),
      log.added('a', 'u5', ['member']),
      log.added('a', 'u6', ['member']),
    ]);
    expect(await userIds('a', {})).toEqual(['u1', 'u2', 'u3', 'u4', 'u5', 'u6']);
    expect(await userIds('a', { role: 'admin' })).toEqual(['u1', 'u3']);
    expect(await userIds('a', { role: 'owner' })).toEqual(['u2']);
    expect(await userIds('a', { role: 'member', q: 'EXAMPLE' })).toEqual(['u2']);
    expect(await userIds('a', { q: 'ärv' })).toEqual(['u3']);
    expect(await userIds('a', { q: 'arvid' })).toEqual(['u3']);
    expect(await userIds('a', { q: '0%' })).toEqual(['u5']);
    expect(await userIds('a', { q: 'pe_c' })).toEqual([]);
    expect(await userIds('a', { q: 'r_' })).toEqual(['u6']);
    expect(await userIds('a', { q: 'perc' })).toEqual(['u5']);
    expect(await userIds('a', { q: 'n' })).toEqual(['u1', 'u5', 'u6']);
    expect(await userIds('a', { q: 'OB' })).toEqual(['u2']);
    expect(await userIds('b1', {})).toEqual(['u3']);
    expect(await userIds('nope', {})).toEqual([]);
  });

  it('pages through members, every one exactly once', async () => {
    const members = Array.from({ length: 12 }, (_, i) => `p${String(i).padStart(2, '0')}`);
    await rm.apply(
      members.flatMap((id, i) => [
        log.user(id, { email: `${id}@x.org`, name: id }),
        log.added('o', id, i % 3 === 0 ? ['admin'] : ['member']),
      ]),
    );
    for (const limit of [1, 2, 5, 12, 13]) {
      const pages = await collectPages((p) => rm.memberships.listByOrg('o', {}, p), limit);
      expect(pages.flat().map((m) => m.userId)).toEqual(members);
      expect(pages.every((p) => p.length > 0 && p.length <= limit)).toBe(true);
      const admins = await collectPages((p) => rm.memberships.listByOrg('o', { role: 'admin' }, p), limit);
      expect(admins.flat().map((m) => m.userId)).toEqual(['p00', 'p03', 'p06', 'p09']);
    }
    await expect(rm.memberships.listByOrg('o', {}, { limit: 2, cursor: 'nope!' })).rejects.toMatchObject({
      code: 'IAM_ERR_VALIDATION',
    });
  });

  it("lists a user's memberships, optionally within subtrees", async () => {
    expect(await rm.memberships.listByUser('u1', {})).toEqual([
      { orgId: 'a1', orgName: 'Alpha one', roles: ['admin'], addedAt: '2024-01-01T00:00:13.000Z', pending: false },
      { orgId: 'r', orgName: 'Root', roles: ['member'], addedAt: '2024-01-01T00:00:12.000Z', pending: false },
    ]);
    const orgIds = async (userId: string, withinSubtreesOf?: string[]) =>
      (await rm.memberships.listByUser(userId, { withinSubtreesOf })).map((m) => m.orgId);
    expect(await orgIds('u1', ['a'])).toEqual(['a1']);
    expect(await orgIds('u1', ['a1', 'r', 'a'])).toEqual(['a1', 'r']);
    expect(await orgIds('u1', ['o'])).toEqual([]);
    expect(await orgIds('u1', [])).toEqual([]);
    expect(await orgIds('u2', ['a11'])).toEqual(['a11']);
    expect(await orgIds('nobody')).toEqual([]);
  });

  it("lists a user's memberships on single organizations (withinOrgs), with withinSubtreesOf their union", async () => {
    const orgIds = async (userId: string, filter: { withinSubtreesOf?: string[]; withinOrgs?: string[] }) =>
      (await rm.memberships.listByUser(userId, filter)).map((m) => m.orgId);
    expect(await orgIds('u1', { withinOrgs: ['a1'] })).toEqual(['a1']);
    expect(await orgIds('u1', { withinOrgs: ['a'] })).toEqual([]);
    expect(await orgIds('u1', { withinOrgs: ['r', 'a1', 'r'] })).toEqual(['a1', 'r']);
    expect(await orgIds('u1', { withinOrgs: [] })).toEqual([]);
    expect(await orgIds('u1', { withinOrgs: [], withinSubtreesOf: [] })).toEqual([]);
    expect(await orgIds('u1', { withinOrgs: ['r'], withinSubtreesOf: ['a'] })).toEqual(['a1', 'r']);
    expect(await orgIds('u2', { withinOrgs: ['a1'], withinSubtreesOf: ['a11'] })).toEqual(['a11']);
    // A pending membership is never listed through withinOrgs.
    await rm.apply([log.added('o', 'u1', ['admin'], { pending: true })]);
    expect(await orgIds('u1', { withinOrgs: ['o'] })).toEqual([]);
  });

  it('gives the membership roots of a user', async () => {
    expect(await rm.memberships.membershipRoots('u2')).toEqual([
      { orgId: 'a', roles: ['member', 'owner'] },
      { orgId: 'a11', roles: ['member'] },
    ]);
    expect(await rm.memberships.membershipRoots('nobody')).toEqual([]);
  });

  it('keeps a pending membership out of every answer but those that ask for it, until it is confirmed', async () => {
    // u3 (a member of b1) linked into a by someone who could not see them: pending.
    await rm.apply([log.added('a', 'u3', ['admin'], { pending: true })]);
    expect(await rm.memberships.get('a', 'u3')).toBeUndefined();
    expect(await rm.memberships.get('a', 'u3', { includePending: true })).toMatchObject({
      orgId: 'a',
      userId: 'u3',
      roles: ['admin'],
      pending: true,
    });
    expect(await userIds('a', {})).not.toContain('u3');
    expect(await userIds('a', { pending: true })).toEqual(['u3']);
    expect(await rm.memberships.effectiveRoles('u3', 'a11')).toEqual([]);
    expect((await rm.memberships.membershipRoots('u3')).map((m) => m.orgId)).toEqual(['b1']);
    expect((await rm.memberships.listByUser('u3', {})).map((m) => m.orgId)).toEqual(['b1']);
    expect(await rm.memberships.listByUser('u3', { includePending: true })).toEqual([
      expect.objectContaining({ orgId: 'a', pending: true }),
      expect.objectContaining({ orgId: 'b1', pending: false }),
    ]);
    expect((await rm.memberships.listByUser('u3', { withinSubtreesOf: ['a'] })).map((m) => m.orgId)).toEqual([]);
    expect((await rm.users.list({ withinSubtreesOf: ['a'] }, { limit: 100 })).items.map((u) => u.id)).not.toContain(
      'u3',
    );
    // Renewed (still pending), then confirmed: in effect, with its roles.
    await rm.apply([log.added('a', 'u3', ['member'], { pending: true }), log.confirmed('a', 'u3')]);
    // Added, renewed, confirmed: three changes of the membership.
    expect(await rm.memberships.get('a', 'u3')).toMatchObject({ roles: ['member'], pending: false, version: 3 });
    expect(await rm.memberships.effectiveRoles('u3', 'a11')).toEqual(['member']);
    expect(await userIds('a', { pending: true })).toEqual([]);
    expect((await rm.users.list({ withinSubtreesOf: ['a'] }, { limit: 100 })).items.map((u) => u.id)).toContain('u3');
  });

  it('matches nothing for a search holding U+0000, which no stored key can', async () => {
    expect(await userIds('a', { q: 'b\u0000' })).toEqual([]);
  });
}
