import { EVENT_TYPES } from './event-catalogue';
import type { StoredEvent } from './events';
import { MembershipIndex, type FromRef, type ToRef } from './membership-index';

let position = 0;
const event = (type: string, data: Record<string, unknown>, streamVersion = 1): StoredEvent =>
  ({
    id: `e${++position}`,
    type,
    streamId: 's',
    streamVersion,
    position,
    occurredAt: '',
    actor: { type: 'system', id: 't' },
    data,
    orgPath: [],
  }) as StoredEvent;
const add = (orgId: string, userId: string, roles: string[], v = 1) =>
  event('UserAddedToOrg', { orgId, userId, roles }, v);
const members = (index: MembershipIndex, orgId: string) =>
  index.membersOf(orgId).map(([u, m]) => [u, m.roles, m.version]);

const toRef: ToRef = (_kind, id) => id;
const fromRef: FromRef = (_kind, ref) => String(ref);

describe('MembershipIndex', () => {
  it('holds one member, then several, in insertion order, and updates a member in place', () => {
    const index = new MembershipIndex();
    index.apply(add('o', 'u1', ['member']));
    expect(index.get('o', 'u1')).toEqual({ roles: ['member'], version: 1 });
    expect(index.get('o', 'u2')).toBeUndefined();
    index.apply(event('OrgUserUpdated', { orgId: 'o', userId: 'u1', roles: ['admin'] }, 2));
    expect(members(index, 'o')).toEqual([['u1', ['admin'], 2]]);
    index.apply(add('o', 'u2', ['member']));
    index.apply(add('o', 'u3', ['admin', 'member']));
    expect(members(index, 'o')).toEqual([
      ['u1', ['admin'], 2],
      ['u2', ['member'], 1],
      ['u3', ['admin', 'member'], 1],
    ]);
    expect(index.get('o', 'u2')).toEqual({ roles: ['member'], version: 1 });
  });

  it('forgets removed members down to none, and an organization that never had any', () => {
    const index = new MembershipIndex();
    index.apply(add('o', 'u1', ['member']));
    index.apply(event('UserRemovedFromOrg', { orgId: 'o', userId: 'nobody' }));
    expect(members(index, 'o')).toEqual([['u1', ['member'], 1]]);
    index.apply(event('UserRemovedFromOrg', { orgId: 'o', userId: 'u1' }));
    expect(members(index, 'o')).toEqual([]);
    index.apply(add('p', 'u1', ['member']));
    index.apply(add('p', 'u2', ['member']));
    index.apply(event('UserRemovedFromOrg', { orgId: 'p', userId: 'u1' }));
    index.apply(event('UserRemovedFromOrg', { orgId: 'p', userId: 'u2' }));
    expect(members(index, 'p')).toEqual([]);
    index.apply(add('p', 'u3', ['member']));
    expect(members(index, 'p')).toEqual([['u3', ['member'], 1]]);
    expect(members(index, 'never')).toEqual([]);
  });

  it('keeps an organization’s members and clients through every event but its deletion', () => {
    // OrgAuditRetentionSet once fell through to OrgDeleted's case: setting a retention wiped the organization's
    // members and clients from the command model, whose access checks and deciders then saw none.
    for (const type of EVENT_TYPES.filter((t) => t !== 'OrgDeleted')) {
      const index = new MembershipIndex();
      index.apply(add('o', 'u1', ['admin']));
      index.apply(
        event('ClientCredentialIssued', {
          clientCredentialId: 'c1',
          clientId: 'cli_1',
          name: 'n',
          orgId: 'o',
          scopes: ['orgs:read'],
        }),
      );
      // An event of that type about the same organization, naming another user and another client.
      index.apply(
        event(type, {
          orgId: 'o',
          userId: 'u2',
          clientCredentialId: 'c2',
          clientId: 'cli_2',
          name: 'x',
          scopes: [],
          roles: [],
          parentId: null,
          fromParentId: null,
          toParentId: null,
        }),
      );
      expect([type, index.get('o', 'u1')?.roles]).toEqual([type, ['admin']]);
      expect([type, index.client('c1')?.orgId]).toEqual([type, 'o']);
    }
  });

  it('drops the members of a deleted organization', () => {
    const index = new MembershipIndex();
    index.apply(add('o', 'u1', ['member']));
    index.apply(add('o', 'u2', ['member']));
    index.apply(event('OrgDeleted', { orgId: 'o' }));
    expect(index.get('o', 'u1')).toBeUndefined();
    expect(members(index, 'o')).toEqual([]);
  });

  it('restores from its snapshot with the same members, roles and versions', () => {
    const index = new MembershipIndex();
    index.apply(add('o', 'u1', ['member'], 3));
    index.apply(add('o', 'u2', ['admin']));
    index.apply(add('p', 'u1', ['admin', 'member']));
    const restored = MembershipIndex.fromSnapshot(index.toSnapshot(toRef), fromRef);
    for (const org of ['o', 'p']) expect(members(restored, org)).toEqual(members(index, org));
    expect(restored.toSnapshot(toRef)).toEqual(index.toSnapshot(toRef));
  });
});

describe('MembershipIndex.orgsOf (the inverse index)', () => {
  const orgsOf = (index: MembershipIndex, userId: string) => index.orgsOf(userId).sort();

  it('follows additions, removals and deletions of organizations, one org then several then back', () => {
    const index = new MembershipIndex();
    expect(index.orgsOf('u')).toEqual([]);
    index.apply(add('o1', 'u', ['member']));
    index.apply(add('o1', 'u', ['admin'], 2)); // an update of the same membership adds nothing
    expect(orgsOf(index, 'u')).toEqual(['o1']);
    index.apply(add('o2', 'u', ['member']));
    index.apply(add('o3', 'u', ['member']));
    expect(orgsOf(index, 'u')).toEqual(['o1', 'o2', 'o3']);
    index.apply(event('UserRemovedFromOrg', { orgId: 'o2', userId: 'u' }));
    expect(orgsOf(index, 'u')).toEqual(['o1', 'o3']);
    index.apply(event('OrgDeleted', { orgId: 'o3', parentId: null }));
    expect(orgsOf(index, 'u')).toEqual(['o1']);
    index.apply(event('UserRemovedFromOrg', { orgId: 'o1', userId: 'u' }));
    expect(index.orgsOf('u')).toEqual([]);
  });

  it('is rebuilt from a snapshot', () => {
    const index = new MembershipIndex();
    index.apply(add('o1', 'u', ['member']));
    index.apply(add('o2', 'u', ['member']));
    index.apply(add('o2', 'v', ['member']));
    const restored = MembershipIndex.fromSnapshot(index.toSnapshot(toRef), fromRef);
    expect(orgsOf(restored, 'u')).toEqual(['o1', 'o2']);
    expect(orgsOf(restored, 'v')).toEqual(['o2']);
  });
});

describe('MembershipIndex pending memberships', () => {
  it('keeps the pending mark through role changes and snapshots, and drops it on confirmation', () => {
    const index = new MembershipIndex();
    index.apply(event('UserAddedToOrg', { orgId: 'o', userId: 'u', roles: ['admin'], pending: true }));
    index.apply(add('o', 'v', ['member']));
    index.apply(event('OrgUserUpdated', { orgId: 'o', userId: 'u', roles: ['member'] }, 2));
    expect(index.get('o', 'u')).toEqual({ roles: ['member'], version: 2, pending: true });
    const restored = MembershipIndex.fromSnapshot(index.toSnapshot(toRef), fromRef);
    expect(restored.get('o', 'u')).toEqual({ roles: ['member'], version: 2, pending: true });
    expect(restored.get('o', 'v')?.pending).toBeUndefined();
    restored.apply(event('MembershipConfirmed', { orgId: 'o', userId: 'u' }, 3));
    expect(restored.get('o', 'u')).toEqual({ roles: ['member'], version: 3 });
  });
});

describe('MembershipIndex client credentials issued without scopes', () => {
  const issued = (id: string, scopes: string[], roles: string[]) =>
    event('ClientCredentialIssued', {
      clientCredentialId: id,
      clientId: `c-${id}`,
      orgId: 'o',
      scopes,
      roles,
      name: id,
    });

  it('marks them, keeps the mark through role changes and snapshots, and reads snapshots from before the mark', () => {
    const index = new MembershipIndex();
    index.apply(issued('a', [], ['member']));
    index.apply(issued('b', ['orgs:read'], []));
    index.apply(event('ClientCredentialRolesChanged', { clientCredentialId: 'a', roles: ['admin'] }, 2));
    expect(index.client('a')).toMatchObject({ roles: ['admin'], version: 2, scopeless: true });
    expect(index.client('b')?.scopeless).toBeUndefined();
    const snapshot = index.toSnapshot(toRef);
    const restored = MembershipIndex.fromSnapshot(snapshot, fromRef);
    expect(restored.client('a')?.scopeless).toBe(true);
    expect(restored.client('b')?.scopeless).toBeUndefined();
    // A snapshot written before such clients existed has no `scopeless`: every client had a scope then.
    const older = MembershipIndex.fromSnapshot(
      { ...snapshot, clients: { ...snapshot.clients, scopeless: undefined } },
      fromRef,
    );
    expect(older.client('a')?.scopeless).toBeUndefined();
  });
});
