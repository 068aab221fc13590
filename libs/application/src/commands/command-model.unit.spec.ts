import { createHash } from 'node:crypto';
import {
  applicationPermissionStreamId,
  clientStreamId,
  roleStreamId,
  emailKey,
  membershipStreamId,
  orgStreamId,
  userStreamId,
  type DomainEvent,
  type StoredEvent,
} from '@arbor/domain';
import { CommandModel } from './command-model';
import type { CommandModelSnapshot } from './command-model-snapshot-file';

/** A history touching every event type, including moves, renames and deletions that reorder the model. */
function history(): Array<{ event: StoredEvent; personal: { email: string; name: string } | null }> {
  const out: Array<{ event: StoredEvent; personal: { email: string; name: string } | null }> = [];
  const versions = new Map<string, number>();
  const add = (e: DomainEvent, personal: { email: string; name: string } | null = null) => {
    const v = (versions.get(e.streamId) ?? 0) + 1;
    versions.set(e.streamId, v);
    const position = out.length * 2 + 1; // gaps, as PostgreSQL positions have
    out.push({
      event: {
        id: `ev${position}`,
        type: e.type,
        streamId: e.streamId,
        streamVersion: v,
        position,
        occurredAt: '',
        actor: { type: 'system', id: 't' },
        data: e.data,
        orgPath: [],
      },
      personal,
    });
  };
  const org = (orgId: string, parentId: string | null, name = orgId) =>
    add({
      type: 'OrgCreated',
      streamId: orgStreamId(orgId),
      data: { orgId, name, parentId, description: null, metadata: { n: orgId } },
    });
  org('r1', null);
  org('r2', null, 'Root Two');
  for (let i = 0; i < 12; i++) org(`a${i}`, i < 4 ? 'r1' : `a${i % 4}`);
  org('b1', 'r2');
  add({ type: 'OrgMoved', streamId: orgStreamId('a1'), data: { orgId: 'a1', fromParentId: 'r1', toParentId: 'b1' } });
  add({
    type: 'OrgUpdated',
    streamId: orgStreamId('a5'),
    data: { orgId: 'a5', name: 'Renamed Five', description: 'd', metadata: {} },
  });
  add({ type: 'OrgDeleted', streamId: orgStreamId('a11'), data: { orgId: 'a11', parentId: 'a3' } });
  for (let i = 0; i < 6; i++) {
    add(
      {
        type: 'UserCreated',
        streamId: userStreamId(`u${i}`),
        data: { userId: `u${i}`, personal: 'sealed', platformAdmin: i === 0 },
      },
      { email: `User${i}@Example.test`, name: `User ${i}` },
    );
    add({
      type: 'UserAddedToOrg',
      streamId: membershipStreamId(`a${i}`, `u${i}`),
      data: { orgId: `a${i}`, userId: `u${i}`, roles: ['member'] },
    });
  }
  add(
    { type: 'UserUpdated', streamId: userStreamId('u2'), data: { userId: 'u2', personal: 'sealed' } },
    { email: 'new2@example.test', name: 'Renamed Usertwo' },
  );
  add({ type: 'UserDisabled', streamId: userStreamId('u3'), data: { userId: 'u3' } });
  add(
    {
      type: 'UserCreated',
      streamId: userStreamId('u9'),
      data: { userId: 'u9', personal: 'sealed', platformAdmin: false },
    },
    null,
  );
  add({
    type: 'OrgUserUpdated',
    streamId: membershipStreamId('a1', 'u1'),
    data: { orgId: 'a1', userId: 'u1', roles: ['admin', 'owner'] },
  });
  add({ type: 'UserRemovedFromOrg', streamId: membershipStreamId('a2', 'u2'), data: { orgId: 'a2', userId: 'u2' } });
  // Added again after the removal: a new membership (version 1) on a stream at version 3.
  add({
    type: 'UserAddedToOrg',
    streamId: membershipStreamId('a2', 'u2'),
    data: { orgId: 'a2', userId: 'u2', roles: ['admin'] },
  });
  add({
    type: 'OrgUserUpdated',
    streamId: membershipStreamId('a2', 'u2'),
    data: { orgId: 'a2', userId: 'u2', roles: ['member'] },
  });
  for (const [id, orgId] of [
    ['c1', 'a4'],
    ['c2', 'a4'],
    ['c3', 'b1'],
  ])
    add({
      type: 'ClientCredentialIssued',
      streamId: clientStreamId(id),
      data: { clientCredentialId: id, clientId: `cli_${id}`, name: id, orgId, scopes: ['orgs:read'] },
    });
  add({
    type: 'ClientCredentialRevoked',
    streamId: clientStreamId('c1'),
    data: { clientCredentialId: 'c1', clientId: 'cli_c1', orgId: 'a4' },
  });
  add({ type: 'OrgDeleted', streamId: orgStreamId('a9'), data: { orgId: 'a9', parentId: 'a1' } });
  const billing = { orgId: 'r1', name: 'billing:read', description: 'Read bills' };
  add({
    type: 'ApplicationPermissionDefined',
    streamId: applicationPermissionStreamId('r1', billing.name),
    data: billing,
  });
  add({
    type: 'ApplicationPermissionUpdated',
    streamId: applicationPermissionStreamId('r1', billing.name),
    data: { ...billing, description: 'Read invoices' },
  });
  const role = (roleId: string, name: string) => ({
    roleId,
    orgId: 'a1',
    name,
    description: '',
    permissions: ['orgs:read', 'billing:read'],
    appliesTo: 'organization' as const,
  });
  add({ type: 'RoleDefined', streamId: roleStreamId('role_1'), data: role('role_1', 'Biller') });
  add({ type: 'RoleUpdated', streamId: roleStreamId('role_1'), data: role('role_1', 'Billing') });
  add({ type: 'RoleDefined', streamId: roleStreamId('role_2'), data: role('role_2', 'Gone') });
  add({ type: 'RoleDeleted', streamId: roleStreamId('role_2'), data: { roleId: 'role_2', orgId: 'a1' } });
  add({
    type: 'ApplicationPermissionDefined',
    streamId: applicationPermissionStreamId('r2', 'x:y'),
    data: { orgId: 'r2', name: 'x:y', description: '' },
  });
  add({
    type: 'ApplicationPermissionDeleted',
    streamId: applicationPermissionStreamId('r2', 'x:y'),
    data: { orgId: 'r2', name: 'x:y' },
  });
  // A type this version does not know (written by a newer one): its stream's version still counts.
  add({ type: 'FutureThing', streamId: 'other-x', data: {} } as unknown as DomainEvent);
  add({ type: 'FutureThing', streamId: 'other-x', data: {} } as unknown as DomainEvent);
  return out;
}

/** A stand-in for the command service's keyed digest of `emailKey`: opaque, like the real one. */
const idx = (email: string) => `idx:${createHash('sha256').update(emailKey(email)).digest('base64url')}`;

const fold = (model: CommandModel, events: ReturnType<typeof history>) => {
  for (const { event, personal } of events) model.apply(event, personal && idx(personal.email));
  return model;
};

/** Everything a decider can ask, for every id the history used. */
function answers(model: CommandModel) {
  const { orgs, users, memberships } = model.state;
  const orgIds = ['r1', 'r2', 'b1', ...Array.from({ length: 12 }, (_, i) => `a${i}`)];
  return {
    orgs: orgIds.map((id) => ({
      node: orgs.get(id) && { ...orgs.get(id), children: [...(orgs.get(id)!.children ?? [])] },
      path: orgs.get(id) ? orgs.path(id) : null,
      subtree: orgs.subtreeIds(id),
    })),
    siblings: [
      orgs.siblingNamed(null, 'root two'),
      orgs.siblingNamed('a1', 'A5'),
      orgs.siblingNamed('a1', 'renamed five'),
      orgs.siblingNamed('r1', 'a1'),
    ],
    users: ['u0', 'u1', 'u2', 'u3', 'u9'].map((id) => users.get(id)),
    emails: ['user0@example.test', 'USER2@example.test', 'new2@example.test', 'user3@example.test'].map((e) =>
      users.idForEmailIndex(idx(e)),
    ),
    admin: users.hasPlatformAdmin(),
    members: orgIds.map((id) => memberships.membersOf(id)),
    roles: orgIds.map((id) => [model.state.roles.visibleAt(id), model.state.roles.permissionsVisibleAt(id)]),
    roleStreams: ['role-role_1', 'role-role_2', 'permission-r1-billing:read', 'permission-r2-x:y'].map((s) =>
      model.streamVersion(s),
    ),
    clients: ['c1', 'c2', 'c3'].map((id) => memberships.client(id)),
    clientsOf: orgIds.map((id) => memberships.clientsOf(id)),
    versions: [
      'org-a1',
      'org-a9',
      'org-a11',
      'user-u2',
      'user-u9',
      'client-c1',
      'client-c2',
      'membership-a1-u1',
      'membership-a2-u2',
      'org-nope',
      'other-x',
    ].map((s) => model.streamVersion(s)),
    position: model.position,
    lastEventId: model.lastEventId,
  };
}

describe('CommandModel snapshots', () => {
  it('restores a model that answers like the one folded from the whole log, then folds on identically', () => {
    const events = history();
    const whole = fold(new CommandModel(), events);
    for (const cut of [0, 1, 17, 30, events.length - 1, events.length]) {
      const head = fold(new CommandModel(), events.slice(0, cut));
      const persisted = JSON.parse(JSON.stringify(head.toSnapshot())) as CommandModelSnapshot;
      const restored = fold(new CommandModel(persisted), events.slice(cut));
      expect(answers(restored)).toEqual(answers(whole));
      expect(restored.toSnapshot()).toEqual(whole.toSnapshot());
    }
  });

  it('knows the last version of every stream of the log, restored or not', () => {
    const events = history();
    const last = new Map(events.map(({ event }) => [event.streamId, event.streamVersion]));
    for (const cut of [0, 20, events.length]) {
      const head = fold(new CommandModel(), events.slice(0, cut));
      const model = fold(new CommandModel(JSON.parse(JSON.stringify(head.toSnapshot()))), events.slice(cut));
      for (const [streamId, version] of last)
        expect([streamId, model.streamVersion(streamId)]).toEqual([streamId, version]);
      expect(model.streamVersion('org-never')).toBeUndefined();
    }
  });

  it("versions a membership by its own changes from 1, while its stream's version goes on", () => {
    const events = history();
    for (const cut of [0, events.length - 4, events.length]) {
      const head = fold(new CommandModel(), events.slice(0, cut));
      const model = fold(new CommandModel(JSON.parse(JSON.stringify(head.toSnapshot()))), events.slice(cut));
      expect(model.state.memberships.get('a2', 'u2')).toMatchObject({ roles: ['member'], version: 2 });
      expect(model.streamVersion(membershipStreamId('a2', 'u2'))).toBe(4);
      expect(model.state.memberships.get('a1', 'u1')).toMatchObject({ version: 2 });
      expect(model.streamVersion(membershipStreamId('a1', 'u1'))).toBe(2);
    }
  });

  it('records the last event, so a snapshot can be matched with the log it came from', () => {
    const events = history();
    const model = fold(new CommandModel(), events.slice(0, 5));
    expect(model.toSnapshot()).toMatchObject({
      format: 'arbor-command-model/8',
      position: events[4].event.position,
      lastEventId: events[4].event.id,
    });
    expect(new CommandModel().toSnapshot()).toMatchObject({ position: 0, lastEventId: null });
  });

  it('holds users as log positions and email index entries, never their personal data', () => {
    const events = history();
    const snapshot = fold(new CommandModel(), events).toSnapshot();
    const text = JSON.stringify(snapshot);
    for (const { personal } of events)
      if (personal)
        for (const clear of [personal.email, emailKey(personal.email), personal.name])
          expect(text).not.toContain(clear);
    const u2 = snapshot.users.ids.indexOf('u2');
    const renamed = events.find(({ event }) => event.type === 'UserUpdated')!.event;
    expect([snapshot.users.personalAt[u2], snapshot.users.emailIndex[u2]]).toEqual([
      renamed.position,
      idx('New2@example.test'),
    ]);
    expect(snapshot.users.personalAt[snapshot.users.ids.indexOf('u9')]).toBeNull();
  });

  it('refuses a snapshot whose organizations do not hang under a root', () => {
    const snapshot = new CommandModel().toSnapshot();
    Object.assign(snapshot.orgs, {
      ids: ['x'],
      names: ['X'],
      parents: [3],
      descriptions: [null],
      metadata: [0],
      versions: [1],
    });
    expect(() => new CommandModel(snapshot)).toThrow(/before its parent/);
  });
});
