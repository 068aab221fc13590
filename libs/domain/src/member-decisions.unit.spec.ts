import type { DomainEvent, StoredEvent } from './events';
import { IamError } from './iam-error';
import {
  decideAddUserToOrg,
  decideConfirmMembership,
  decideChangeClientRoles,
  decideIssueClientCredential,
  decideRemoveUserFromOrg,
  decideRevokeClientCredential,
  decideSetUserStatus,
  decideUpdateOrgUser,
  orgUserVersion,
  type IdentityState,
} from './member-decisions';
import { MembershipIndex } from './membership-index';
import { decideEraseUser } from './erasure-decisions';
import { decideDeleteOrg } from './org-decisions';
import { OrgTree } from './org-tree';
import { permissionsOfRoles } from './roles';
import { UserDirectory, emailKey } from './user-directory';

let position = 0;
const versions = new Map<string, number>();
const people = new Map<string, { email: string; name: string }>();
/** A stand-in for the application's keyed digest: the domain only compares index entries. */
const idx = (email: string) => `idx:${emailKey(email)}`;

/** Applies events to every part of the state, opening "sealed" personal data from a test-side table. */
function commit(state: IdentityState, events: DomainEvent[]): void {
  for (const e of events) {
    const v = (versions.get(e.streamId) ?? 0) + 1;
    versions.set(e.streamId, v);
    const stored: StoredEvent = {
      id: `e${++position}`,
      type: e.type,
      streamId: e.streamId,
      streamVersion: v,
      position,
      occurredAt: '',
      actor: { type: 'system', id: 't' },
      data: e.data,
      orgPath: [],
    };
    state.orgs.apply(stored);
    state.memberships.apply(stored);
    const personal = 'personal' in e.data ? (people.get(e.data.personal as string) ?? null) : null;
    state.users.apply(stored, personal && idx(personal.email));
  }
}

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof IamError) return e.code;
    throw e;
  }
  return 'no error';
}

function fixture(): IdentityState {
  const state: IdentityState = { orgs: new OrgTree(), users: new UserDirectory(), memberships: new MembershipIndex() };
  commit(state, [
    {
      type: 'OrgCreated',
      streamId: 'org-a',
      data: { orgId: 'a', name: 'A', parentId: null, description: null, metadata: {} },
    },
  ]);
  commit(state, [
    {
      type: 'OrgCreated',
      streamId: 'org-b',
      data: { orgId: 'b', name: 'B', parentId: 'a', description: null, metadata: {} },
    },
  ]);
  people.set('sealed-ada', { email: 'Ada@example.test', name: 'Ada' });
  commit(
    state,
    decideAddUserToOrg(state, {
      orgId: 'a',
      roles: ['member'],
      newUser: { userId: 'u1', emailIndex: idx('Ada@example.test'), personal: 'sealed-ada' },
    }),
  );
  return state;
}

describe('memberships', () => {
  it('creates a user with their first membership; an email naming an account the caller sees is a 409 naming it, in any case', () => {
    const state = fixture();
    expect(state.users.get('u1')).toMatchObject({ emailIndex: idx('Ada@example.test'), status: 'active' });
    const add = () =>
      decideAddUserToOrg(state, {
        orgId: 'b',
        roles: ['admin'],
        newUser: { userId: 'u2', emailIndex: idx('ada@EXAMPLE.test'), personal: 'x' },
        hiddenAccount: false,
      });
    expect(codeOf(add)).toBe('IAM_ERR_EMAIL_TAKEN');
    expect(() => add()).toThrow(/u1/);
    // By id, on purpose, it is added.
    expect(decideAddUserToOrg(state, { orgId: 'b', roles: ['admin'], existingUserId: 'u1' })[0].data).toEqual({
      orgId: 'b',
      userId: 'u1',
      roles: ['admin'],
    });
  });

  it('refuses a second membership, unknown users and orgs, and bad roles', () => {
    const state = fixture();
    expect(codeOf(() => decideAddUserToOrg(state, { orgId: 'a', roles: ['admin'], existingUserId: 'u1' }))).toBe(
      'IAM_ERR_ALREADY_MEMBER',
    );
    expect(codeOf(() => decideAddUserToOrg(state, { orgId: 'a', roles: ['admin'], existingUserId: 'ghost' }))).toBe(
      'IAM_ERR_NOT_FOUND',
    );
    expect(codeOf(() => decideAddUserToOrg(state, { orgId: 'zz', roles: ['admin'], existingUserId: 'u1' }))).toBe(
      'IAM_ERR_NOT_FOUND',
    );
    for (const roles of [[], ['king'], 'admin', undefined])
      expect(codeOf(() => decideAddUserToOrg(state, { orgId: 'b', roles, existingUserId: 'u1' }))).toBe(
        'IAM_ERR_VALIDATION',
      );
  });

  it("normalises roles, decides nothing for unchanged ones, and versions org users by their membership's own changes", () => {
    const state = fixture();
    const v1 = orgUserVersion(state, 'a', 'u1')!;
    expect(decideUpdateOrgUser(state, { orgId: 'a', userId: 'u1', roles: ['member'] })).toEqual([]);
    const events = decideUpdateOrgUser(state, {
      orgId: 'a',
      userId: 'u1',
      roles: ['owner', 'member', 'owner'],
      expectedVersion: v1,
    });
    expect(events[0].data).toEqual({ orgId: 'a', userId: 'u1', roles: ['member', 'owner'] });
    commit(state, events);
    expect(orgUserVersion(state, 'a', 'u1')).toBe(v1 + 1);
    expect(
      codeOf(() => decideUpdateOrgUser(state, { orgId: 'a', userId: 'u1', roles: ['admin'], expectedVersion: v1 })),
    ).toBe('IAM_ERR_PRECONDITION_FAILED');
    people.set('sealed-ada-2', { email: 'Ada@example.test', name: 'Ada L.' });
    expect(
      decideUpdateOrgUser(state, {
        orgId: 'a',
        userId: 'u1',
        rename: { name: 'Ada', personal: 'sealed-ada-2', previousName: 'Ada' },
      }),
    ).toEqual([]);
    commit(
      state,
      decideUpdateOrgUser(state, {
        orgId: 'a',
        userId: 'u1',
        rename: { name: 'Ada L.', personal: 'sealed-ada-2', previousName: 'Ada' },
      }),
    );
    // The model points at the record that now holds the user's data; the email's index entry stays.
    expect(state.users.get('u1')).toMatchObject({ personalAt: position, emailIndex: idx('ada@example.test') });
    // The rename is the user's own change: the org user's version stays, but a write that expected the
    // user as it was (its If-Match matched the old name) is refused.
    expect(orgUserVersion(state, 'a', 'u1')).toBe(v1 + 1);
    const userVersion = state.users.get('u1')!.version;
    expect(
      codeOf(() =>
        decideUpdateOrgUser(state, {
          orgId: 'a',
          userId: 'u1',
          roles: ['admin'],
          expectedVersion: v1 + 1,
          expectedUserVersion: userVersion - 1,
        }),
      ),
    ).toBe('IAM_ERR_PRECONDITION_FAILED');
    expect(
      decideUpdateOrgUser(state, {
        orgId: 'a',
        userId: 'u1',
        roles: ['admin'],
        expectedVersion: v1 + 1,
        expectedUserVersion: userVersion,
      }),
    ).toHaveLength(1);
  });

  it('links an account its caller cannot see as a pending membership, in effect once confirmed or added by id', () => {
    const state = fixture();
    const link = (hiddenAccount: boolean, roles: string[]) =>
      decideAddUserToOrg(state, {
        orgId: 'b',
        roles,
        newUser: { userId: 'u9', emailIndex: idx('ada@example.test'), personal: 'x' },
        hiddenAccount,
      });
    const pending = link(true, ['admin']);
    expect(pending).toEqual([
      {
        type: 'UserAddedToOrg',
        streamId: 'membership-b-u1',
        data: { orgId: 'b', userId: 'u1', roles: ['admin'], pending: true },
      },
    ]);
    commit(state, pending);
    expect(state.memberships.get('b', 'u1')).toMatchObject({ roles: ['admin'], pending: true });
    // Adding the email again answers as for any member (a 409), whoever asks.
    expect(codeOf(() => link(true, ['member']))).toBe('IAM_ERR_ALREADY_MEMBER');
    expect(codeOf(() => link(false, ['member']))).toBe('IAM_ERR_ALREADY_MEMBER');
    // Someone who can see the account adds it by id: that puts it in effect.
    const other: IdentityState = { orgs: state.orgs, users: state.users, memberships: new MembershipIndex() };
    commit(other, pending);
    expect(decideAddUserToOrg(other, { orgId: 'b', roles: ['member'], existingUserId: 'u1' })[0].data).toEqual({
      orgId: 'b',
      userId: 'u1',
      roles: ['member'],
    });
    // A role change keeps it pending; a confirmation ends that, once.
    commit(state, decideUpdateOrgUser(state, { orgId: 'b', userId: 'u1', roles: ['owner'] }));
    expect(state.memberships.get('b', 'u1')).toMatchObject({ roles: ['owner'], pending: true });
    commit(state, decideConfirmMembership(state, { orgId: 'b', userId: 'u1' }));
    expect(state.memberships.get('b', 'u1')?.pending).toBeUndefined();
    expect(decideConfirmMembership(state, { orgId: 'b', userId: 'u1' })).toEqual([]);
    expect(codeOf(() => link(true, ['member']))).toBe('IAM_ERR_ALREADY_MEMBER');
    expect(codeOf(() => decideConfirmMembership(state, { orgId: 'a', userId: 'nobody' }))).toBe('IAM_ERR_NOT_FOUND');
    // A new user is never pending, nor is an account its caller can see.
    expect(
      decideAddUserToOrg(state, {
        orgId: 'b',
        roles: ['member'],
        newUser: { userId: 'u7', emailIndex: idx('new@example.test'), personal: 'x' },
        hiddenAccount: true,
      }).map((e) => e.data),
    ).toEqual([expect.objectContaining({ userId: 'u7' }), { orgId: 'b', userId: 'u7', roles: ['member'] }]);
  });

  it('removes memberships, which then are gone', () => {
    const state = fixture();
    commit(state, decideRemoveUserFromOrg(state, { orgId: 'a', userId: 'u1' }));
    expect(state.memberships.get('a', 'u1')).toBeUndefined();
    expect(codeOf(() => decideRemoveUserFromOrg(state, { orgId: 'a', userId: 'u1' }))).toBe('IAM_ERR_NOT_FOUND');
  });

  it('disables and enables users, never a platform admin', () => {
    const state = fixture();
    commit(state, decideSetUserStatus(state, { userId: 'u1', status: 'disabled' }));
    expect(state.users.get('u1')!.status).toBe('disabled');
    expect(decideSetUserStatus(state, { userId: 'u1', status: 'disabled' })).toEqual([]);
    commit(state, decideSetUserStatus(state, { userId: 'u1', status: 'active' }));
    expect(state.users.get('u1')!.status).toBe('active');
    people.set('sealed-root', { email: 'root@example.test', name: 'Root' });
    commit(state, [
      {
        type: 'UserCreated',
        streamId: 'user-root',
        data: { userId: 'root', personal: 'sealed-root', platformAdmin: true },
      },
    ]);
    expect(codeOf(() => decideSetUserStatus(state, { userId: 'root', status: 'disabled' }))).toBe('IAM_ERR_FORBIDDEN');
  });

  it('treats users whose personal data is gone as erased: no email, not addable', () => {
    const state = fixture();
    commit(state, [
      {
        type: 'UserCreated',
        streamId: 'user-gone',
        data: { userId: 'gone', personal: 'destroyed', platformAdmin: false },
      },
    ]);
    expect(state.users.get('gone')).toMatchObject({ status: 'erased', emailIndex: null, personalAt: null });
    expect(codeOf(() => decideAddUserToOrg(state, { orgId: 'a', roles: ['member'], existingUserId: 'gone' }))).toBe(
      'IAM_ERR_NOT_FOUND',
    );
  });

  it("frees an erased user's email, whether folded so or found erased later", () => {
    const state = fixture();
    state.users.markErased('u1');
    expect(state.users.get('u1')).toMatchObject({ status: 'erased', emailIndex: null, personalAt: null });
    expect(state.users.idForEmailIndex(idx('ada@example.test'))).toBeUndefined();
    const events = decideAddUserToOrg(state, {
      orgId: 'b',
      roles: ['member'],
      newUser: { userId: 'u2', emailIndex: idx('ADA@example.test'), personal: 'sealed-ada' },
    });
    expect(events.map((e) => [e.type, (e.data as { userId: string }).userId])).toEqual([
      ['UserCreated', 'u2'],
      ['UserAddedToOrg', 'u2'],
    ]);
    expect(
      codeOf(() =>
        decideUpdateOrgUser(state, {
          orgId: 'a',
          userId: 'u1',
          rename: { name: 'X', personal: 'x', previousName: 'Ada' },
        }),
      ),
    ).toBe('IAM_ERR_NOT_FOUND');
  });
});

describe('client credentials', () => {
  it('issues with valid scopes only, and revokes once', () => {
    const state = fixture();
    for (const scopes of [[], ['root'], 'orgs:read'])
      expect(
        codeOf(() =>
          decideIssueClientCredential(state, {
            clientCredentialId: 'c1',
            clientId: 'cli1',
            name: 'ci',
            orgId: 'a',
            scopes,
          }),
        ),
      ).toBe('IAM_ERR_VALIDATION');
    expect(
      codeOf(() =>
        decideIssueClientCredential(state, {
          clientCredentialId: 'c1',
          clientId: 'cli1',
          name: 'ci',
          orgId: 'zz',
          scopes: ['orgs:read'],
        }),
      ),
    ).toBe('IAM_ERR_NOT_FOUND');
    commit(
      state,
      decideIssueClientCredential(state, {
        clientCredentialId: 'c1',
        clientId: 'cli1',
        name: 'ci',
        orgId: 'b',
        scopes: ['orgs:write', 'orgs:read'],
      }),
    );
    expect(state.memberships.clientsOf('b')).toEqual(['c1']);
    commit(state, decideRevokeClientCredential(state, { clientCredentialId: 'c1' }));
    expect(codeOf(() => decideRevokeClientCredential(state, { clientCredentialId: 'c1' }))).toBe('IAM_ERR_NOT_FOUND');
  });

  it('issues one with roles and no scopes, which then keeps at least one role', () => {
    const state = fixture();
    const issue = (id: string, scopes: string[], roles: string[]) =>
      decideIssueClientCredential(state, {
        clientCredentialId: id,
        clientId: `cli-${id}`,
        name: id,
        orgId: 'b',
        scopes,
        roles,
      });
    commit(state, issue('c1', [], ['member']));
    commit(state, issue('c2', ['orgs:read'], ['member']));
    const emptied = (id: string) => () => decideChangeClientRoles(state, { clientCredentialId: id, roles: [] });
    expect(emptied('c1')).toThrow(
      expect.objectContaining({ code: 'IAM_ERR_VALIDATION', errors: [expect.objectContaining({ path: '/roles' })] }),
    );
    expect(emptied('c2')().map((e) => e.type)).toEqual(['ClientCredentialRolesChanged']);
    // An unknown role id is that error alone, not also 'no role'.
    expect(() => issue('c4', [], ['nope'])).toThrow(
      expect.objectContaining({ errors: [expect.objectContaining({ path: '/roles' })] }),
    );
    expect(() => issue('c3', [], [])).toThrow(
      expect.objectContaining({
        errors: [expect.objectContaining({ path: '/scopes', message: expect.stringMatching(/has no role/) })],
      }),
    );
  });

  it('ends memberships and client credentials before a recursive delete removes their organizations', () => {
    const state = fixture();
    commit(state, decideAddUserToOrg(state, { orgId: 'b', roles: ['admin'], existingUserId: 'u1' }));
    commit(
      state,
      decideIssueClientCredential(state, {
        clientCredentialId: 'c1',
        clientId: 'cli1',
        name: 'ci',
        orgId: 'b',
        scopes: ['orgs:read'],
      }),
    );
    const events = decideDeleteOrg(state.orgs, { orgId: 'a', recursive: true }, state.memberships);
    expect(events.map((e) => e.type)).toEqual([
      'UserRemovedFromOrg',
      'ClientCredentialRevoked',
      'OrgDeleted',
      'UserRemovedFromOrg',
      'OrgDeleted',
    ]);
  });
});

describe('roles', () => {
  it('grant the permissions of contract section 4', () => {
    expect([...permissionsOfRoles(['member'])].sort()).toEqual(['orgs:read', 'roles:read', 'users:read']);
    expect(permissionsOfRoles(['admin']).has('orgs:delete')).toBe(false);
    expect(permissionsOfRoles(['admin']).has('clients:write')).toBe(true);
    expect(permissionsOfRoles(['owner']).has('orgs:delete')).toBe(true);
    expect(permissionsOfRoles([]).size).toBe(0);
  });
});

describe('erasure', () => {
  const admin = (state: IdentityState, userId: string) => {
    people.set(`sealed-${userId}`, { email: `${userId}@example.test`, name: userId });
    commit(state, [
      {
        type: 'UserCreated',
        streamId: `user-${userId}`,
        data: { userId, personal: `sealed-${userId}`, platformAdmin: true },
      },
    ]);
  };

  it('ends every membership, then erases the user, whose email no longer names them', () => {
    const state = fixture();
    commit(state, decideAddUserToOrg(state, { orgId: 'b', roles: ['admin'], existingUserId: 'u1' }));
    const events = decideEraseUser(state, { userId: 'u1' });
    expect(events.map((e) => [e.type, e.streamId])).toEqual([
      ['UserRemovedFromOrg', 'membership-a-u1'],
      ['UserRemovedFromOrg', 'membership-b-u1'],
      ['UserErased', 'user-u1'],
    ]);
    commit(state, events);
    expect(state.users.get('u1')).toMatchObject({ status: 'erased', emailIndex: null });
    expect(state.users.idForEmailIndex(idx('Ada@example.test'))).toBeUndefined();
    expect(state.memberships.orgsOf('u1')).toEqual([]);
    expect(state.users.erasedIds()).toEqual(['u1']);
    expect(codeOf(() => decideEraseUser(state, { userId: 'u1' }))).toBe('IAM_ERR_NOT_FOUND');
    expect(codeOf(() => decideEraseUser(state, { userId: 'ghost' }))).toBe('IAM_ERR_NOT_FOUND');
  });

  it('keeps the last platform admin who can sign in, and checks the version the caller saw', () => {
    const state = fixture();
    admin(state, 'root1');
    expect(codeOf(() => decideEraseUser(state, { userId: 'root1' }))).toBe('IAM_ERR_FORBIDDEN');
    admin(state, 'root2');
    expect(codeOf(() => decideEraseUser(state, { userId: 'root1', expectedVersion: 7 }))).toBe(
      'IAM_ERR_PRECONDITION_FAILED',
    );
    commit(state, decideEraseUser(state, { userId: 'root1', expectedVersion: 1 }));
    expect(codeOf(() => decideEraseUser(state, { userId: 'root2' }))).toBe('IAM_ERR_FORBIDDEN');
  });
});
