import type { ReadModels, UserListFilter, UserView } from '@arbor/application';
import { ACCESS_TREE } from './access-tree';
import { collectPages } from './collect-pages';
import { Log } from './log';
import type { ReadModelsHarness } from './read-models-harness';

/** What every adapter's UserQueries must do, as Jest tests: call it inside the adapter's `describe`. */
export function userQueriesConformance(harness: ReadModelsHarness): void {
  let rm: ReadModels;
  let log: Log;

  beforeEach(async () => {
    rm = await harness.open();
    log = new Log();
    await rm.apply([
      ...ACCESS_TREE.map(([id, name, parent]) => log.created(id, name, parent)),
      log.user('u1', { email: 'Ann@Example.com', name: 'Ann' }, true),
      log.user('u2', { email: 'bob@example.com', name: 'Bob' }),
      log.user('u3', { email: 'arvid@x.org', name: 'ÄRVID' }),
      log.user('u4', null),
      log.user('u5', { email: 'eve_1@x.org', name: 'Eve' }),
      log.added('a1', 'u1', ['admin']),
      log.added('a11', 'u2', ['member']),
      log.added('b', 'u3', ['member']),
      log.added('a', 'u4', ['member']),
      log.added('r', 'u5', ['member']),
    ]);
  });
  afterEach(() => harness.release(rm));

  const list = async (filter: UserListFilter) => (await rm.users.list(filter, { limit: 100 })).items.map((u) => u.id);

  it('finds emails by full case folding, and among accounts an old log let share a key, the one it found before', async () => {
    // u6 and u7 were different emails when keys were lower case alone; they fold equal now (ß → ss).
    await rm.apply([
      log.user('u6', { email: 'straße@x.org', name: 'A' }),
      log.user('u7', { email: 'strasse@x.org', name: 'B' }),
    ]);
    expect((await rm.users.findByEmail('STRASSE@X.ORG'))?.id).toBe('u7');
    expect((await rm.users.findByEmail('strasse@x.org'))?.id).toBe('u7');
    expect((await rm.users.findByEmail('STRAßE@x.org'))?.id).toBe('u6');
    expect((await rm.users.findByEmail('straße@x.org'))?.id).toBe('u6');
    // ẞ (capital sharp s) lower-cases to ß: under the old key it named u6.
    expect((await rm.users.findByEmail('STRAẞE@X.ORG'))?.id).toBe('u6');
    // One account: any spelling that folds equal finds it.
    expect((await rm.users.findByEmail('ARVID@X.ORG'))?.id).toBe('u3');
    // The email filter lists every account under the key.
    expect(await list({ email: 'STRASSE@x.org' })).toEqual(['u6', 'u7']);
  });

  it('updates personal data, clears it when it can no longer be opened, and erases the user on UserErased', async () => {
    await rm.apply([log.userUpdated('u2', { email: 'Robert@Example.com', name: 'Robert' })]);
    expect(await rm.users.get('u2')).toEqual({
      id: 'u2',
      email: 'Robert@Example.com',
      name: 'Robert',
      status: 'active',
      platformAdmin: false,
      createdAt: '2024-01-01T00:00:09.000Z',
      updatedAt: '2024-01-01T00:00:18.000Z',
      version: 2,
      sessionsNotBefore: null,
      keptSessionId: null,
    });
    expect(await rm.users.findByEmail('bob@example.com')).toBeUndefined();
    expect((await rm.users.findByEmail('robert@EXAMPLE.com'))?.id).toBe('u2');
    expect(await list({ q: 'rober' })).toEqual(['u2']);

    await rm.apply([
      log.userStatus('UserDisabled', 'u2'),
      log.userUpdated('u2', { email: 'rob@example.com', name: 'Rob' }),
    ]);
    expect(await rm.users.get('u2')).toMatchObject({ status: 'disabled', email: 'rob@example.com', version: 4 });

    // Data that no longer opens (its key is gone: a rebuild after an erasure) is cleared; the status is the log's.
    await rm.apply([log.userUpdated('u2', null)]);
    expect(await rm.users.get('u2')).toMatchObject({ email: null, name: null, status: 'disabled', version: 5 });
    await rm.apply([log.event('UserErased', 'user-u2', { userId: 'u2' })]);
    expect(await rm.users.get('u2')).toMatchObject({ email: null, name: null, status: 'erased', version: 6 });
    expect(await rm.users.findByEmail('rob@example.com')).toBeUndefined();
    expect(await list({ q: 'rob' })).toEqual([]);
  });

  it('disables and enables a user, but never brings an erased one back', async () => {
    expect((await rm.users.get('u1'))?.sessionsNotBefore).toBeNull();
    await rm.apply([log.userStatus('UserDisabled', 'u1')]);
    const disabledAt = '2024-01-01T00:00:18.000Z';
    expect(await rm.users.get('u1')).toMatchObject({
      status: 'disabled',
      updatedAt: disabledAt,
      version: 2,
      sessionsNotBefore: disabledAt,
    });
    await rm.apply([log.userStatus('UserEnabled', 'u1')]);
    // Enabling does not bring the sessions that the disable ended back.
    expect(await rm.users.get('u1')).toMatchObject({
      status: 'active',
      version: 3,
      platformAdmin: true,
      sessionsNotBefore: disabledAt,
    });
    await rm.apply([
      log.event('UserErased', 'user-u4', { userId: 'u4' }),
      log.userStatus('UserDisabled', 'u4'),
      log.userStatus('UserEnabled', 'u4'),
    ]);
    expect(await rm.users.get('u4')).toMatchObject({ status: 'erased', email: null, version: 4 });
  });

  it('ends sessions on a password set or change, keeping the session a change names until sessions end again', async () => {
    const changedAt = log.nextAt();
    await rm.apply([log.event('UserPasswordChanged', 'user-u3', { userId: 'u3', keptSessionId: 'fam-1' })]);
    expect(await rm.users.get('u3')).toMatchObject({
      status: 'active',
      sessionsNotBefore: changedAt,
      keptSessionId: 'fam-1',
      updatedAt: changedAt,
      version: 2,
    });
    const setAt = log.nextAt();
    await rm.apply([log.event('UserPasswordSet', 'user-u3', { userId: 'u3' })]);
    expect(await rm.users.get('u3')).toMatchObject({ sessionsNotBefore: setAt, keptSessionId: null, version: 3 });
    await rm.apply([log.event('UserPasswordChanged', 'user-u3', { userId: 'u3', keptSessionId: 'fam-2' })]);
    const disabledAt = log.nextAt();
    await rm.apply([log.userStatus('UserDisabled', 'u3')]);
    // Disabling ends every session, the kept one too.
    expect(await rm.users.get('u3')).toMatchObject({
      status: 'disabled',
      sessionsNotBefore: disabledAt,
      keptSessionId: null,
      version: 5,
    });
  });

  it('lists users in id order, filtered by email or name and by exact email', async () => {
    expect(await list({})).toEqual(['u1', 'u2', 'u3', 'u4', 'u5']);
    expect(await list({ q: 'EXAMPLE' })).toEqual(['u1', 'u2']);
    expect(await list({ q: 'ärv' })).toEqual(['u3']);
    expect(await list({ q: 'e_' })).toEqual(['u5']);
    expect(await list({ q: 'b_b' })).toEqual([]);
    expect(await list({ q: '' })).toEqual(['u1', 'u2', 'u3', 'u4', 'u5']);
    expect(await list({ email: 'ANN@example.COM' })).toEqual(['u1']);
    expect(await list({ email: 'ann@example' })).toEqual([]);
    expect(await list({ email: 'bob@example.com', q: 'ann' })).toEqual([]);
  });

  it('lists users with a membership within subtrees', async () => {
    expect(await list({ withinSubtreesOf: ['a'] })).toEqual(['u1', 'u2', 'u4']);
    expect(await list({ withinSubtreesOf: ['a1'] })).toEqual(['u1', 'u2']);
    expect(await list({ withinSubtreesOf: ['a11', 'a1', 'a11'] })).toEqual(['u1', 'u2']);
    expect(await list({ withinSubtreesOf: ['b1'] })).toEqual([]);
    expect(await list({ withinSubtreesOf: ['r'] })).toEqual(['u1', 'u2', 'u3', 'u4', 'u5']);
    expect(await list({ withinSubtreesOf: ['o'] })).toEqual([]);
    expect(await list({ withinSubtreesOf: [] })).toEqual([]);
    expect(await list({ withinSubtreesOf: ['a', 'b'], q: 'x.org' })).toEqual(['u3']);

    // The scope follows the tree: moved under `o`, a1's members are visible from there only.
    await rm.apply([log.moved('a1', 'a', 'o')]);
    expect(await list({ withinSubtreesOf: ['o'] })).toEqual(['u1', 'u2']);
    expect(await list({ withinSubtreesOf: ['a'] })).toEqual(['u4']);
    await rm.apply([log.removed('a', 'u4')]);
    expect(await list({ withinSubtreesOf: ['a'] })).toEqual([]);
  });

  it('lists users with a confirmed membership on single organizations (withinOrgs), not below them', async () => {
    expect(await list({ withinOrgs: ['a1'] })).toEqual(['u1']);
    expect(await list({ withinOrgs: ['a'] })).toEqual(['u4']);
    expect(await list({ withinOrgs: ['b1'] })).toEqual([]);
    expect(await list({ withinOrgs: [] })).toEqual([]);
    expect(await list({ withinOrgs: [], withinSubtreesOf: [] })).toEqual([]);
    expect(await list({ withinOrgs: ['a1', 'a1', 'r'], withinSubtreesOf: [] })).toEqual(['u1', 'u5']);
    expect(await list({ withinOrgs: ['a1'], withinSubtreesOf: ['b'] })).toEqual(['u1', 'u3']);
    expect(await list({ withinOrgs: ['a11'], withinSubtreesOf: ['a1'] })).toEqual(['u1', 'u2']);
    expect(await list({ withinOrgs: ['b', 'r'], q: 'x.org' })).toEqual(['u3', 'u5']);
    for (const limit of [1, 2, 4]) {
      const pages = await collectPages(
        (p) => rm.users.list({ withinSubtreesOf: ['a11'], withinOrgs: ['r', 'b'] }, p),
        limit,
      );
      expect(pages.flat().map((u) => u.id)).toEqual(['u2', 'u3', 'u5']);
    }
    // A pending membership counts for nothing; the organization, not its place in the tree, is what counts.
    await rm.apply([log.added('a1', 'u3', ['member'], { pending: true }), log.moved('a1', 'a', 'o')]);
    expect(await list({ withinOrgs: ['a1'] })).toEqual(['u1']);
  });

  it('pages through users, every one exactly once', async () => {
    const ids = (pages: UserView[][]) => pages.flat().map((u) => u.id);
    for (const limit of [1, 2, 4, 5, 6]) {
      const pages = await collectPages((p) => rm.users.list({}, p), limit);
      expect(ids(pages)).toEqual(['u1', 'u2', 'u3', 'u4', 'u5']);
      expect(pages.every((p) => p.length > 0 && p.length <= limit)).toBe(true);
      expect(ids(await collectPages((p) => rm.users.list({ withinSubtreesOf: ['a', 'b'] }, p), limit))).toEqual([
        'u1',
        'u2',
        'u3',
        'u4',
      ]);
    }
    expect((await rm.users.list({}, { limit: 5 })).nextCursor).toBeNull();
    await expect(rm.users.list({}, { limit: 2, cursor: 'e30' })).rejects.toMatchObject({ code: 'IAM_ERR_VALIDATION' });
  });

  it('matches nothing for a search holding U+0000, which no stored key can', async () => {
    expect(await list({ q: 'a\u0000' })).toEqual([]);
    expect(await list({ q: '\u0000' })).toEqual([]);
  });
}
