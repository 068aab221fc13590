import type { DomainEvent, StoredEvent } from './events';
import { IamError } from './iam-error';
import type { IdentityState } from './member-decisions';
import { MembershipIndex } from './membership-index';
import { decideDeleteOrg } from './org-decisions';
import { OrgTree } from './org-tree';
import {
  decideDefinePermission,
  decideDefineRole,
  decideDeletePermission,
  decideDeleteRole,
  decideUpdateRole,
  requireNamesFreeAfterMove,
  requireNoDanglingAfterMove,
  type RoleState,
} from './role-decisions';
import { RoleIndex } from './role-index';
import { UserDirectory } from './user-directory';

let position = 0;
const versions = new Map<string, number>();

function commit(state: RoleState, events: DomainEvent[]): void {
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
    state.roles.apply(stored);
  }
}

const codeOf = (fn: () => unknown): string => {
  try {
    fn();
    return 'none';
  } catch (e) {
    return e instanceof IamError ? e.code : String(e);
  }
};

/** root ─ a ─ a1 ; other (a second tree) */
function setup(): RoleState {
  const orgs = new OrgTree();
  const state: RoleState = {
    orgs,
    users: new UserDirectory(),
    memberships: new MembershipIndex(),
    roles: new RoleIndex((id) => orgs.ancestors(id)),
  } satisfies IdentityState;
  const org = (orgId: string, parentId: string | null): DomainEvent => ({
    type: 'OrgCreated',
    streamId: `org-${orgId}`,
    data: { orgId, name: orgId, parentId, description: null, metadata: {} },
  });
  commit(state, [org('root', null), org('a', 'root'), org('a1', 'a'), org('other', null)]);
  return state;
}

describe('the application-permission deciders', () => {
  it('define a valid name once per tree, and refuse reserved prefixes and bad names with 400', () => {
    const state = setup();
    commit(state, decideDefinePermission(state, { orgId: 'root', name: 'billing:approve', description: 'x' }));
    expect(codeOf(() => decideDefinePermission(state, { orgId: 'a1', name: 'billing:approve' }))).toBe(
      'IAM_ERR_NAME_TAKEN',
    );
    expect(codeOf(() => decideDefinePermission(state, { orgId: 'other', name: 'billing:approve' }))).toBe('none');
    expect(codeOf(() => decideDefinePermission(state, { orgId: 'a', name: 'orgs:approve' }))).toBe(
      'IAM_ERR_VALIDATION',
    );
    expect(codeOf(() => decideDefinePermission(state, { orgId: 'a', name: 'billing' }))).toBe('IAM_ERR_VALIDATION');
  });

  it('refuse to delete a permission a role grants (409), and delete it once none does', () => {
    const state = setup();
    commit(state, decideDefinePermission(state, { orgId: 'root', name: 'billing:approve' }));
    commit(
      state,
      decideDefineRole(state, { roleId: 'role_1', orgId: 'a', name: 'Biller', permissions: ['billing:approve'] }),
    );
    expect(codeOf(() => decideDeletePermission(state, { orgId: 'root', name: 'billing:approve' }))).toBe(
      'IAM_ERR_DEFINITION_IN_USE',
    );
    commit(state, decideUpdateRole(state, { roleId: 'role_1', permissions: ['orgs:read'] }));
    commit(state, decideDeletePermission(state, { orgId: 'root', name: 'billing:approve' }));
    expect(state.roles.permissionsVisibleAt('a1')).toEqual([]);
  });
});

describe('the custom-role deciders', () => {
  it('grant only built-in and visible application permissions, with unique names per organization', () => {
    const state = setup();
    commit(state, decideDefinePermission(state, { orgId: 'a', name: 'crm:leads' }));
    expect(
      codeOf(() => decideDefineRole(state, { roleId: 'role_1', orgId: 'root', name: 'R', permissions: ['crm:leads'] })),
    ).toBe('IAM_ERR_VALIDATION');
    commit(
      state,
      decideDefineRole(state, {
        roleId: 'role_1',
        orgId: 'a1',
        name: 'Lead reader',
        permissions: ['crm:leads', 'orgs:read'],
        appliesTo: 'organization',
      }),
    );
    expect(state.roles.get('role_1')).toMatchObject({
      permissions: ['orgs:read', 'crm:leads'],
      appliesTo: 'organization',
    });
    expect(
      codeOf(() => decideDefineRole(state, { roleId: 'role_2', orgId: 'a1', name: 'LEAD READER', permissions: [] })),
    ).toBe('IAM_ERR_NAME_TAKEN');
    expect(
      codeOf(() => decideDefineRole(state, { roleId: 'role_2', orgId: 'a1', name: 'Admin', permissions: [] })),
    ).toBe('IAM_ERR_NAME_TAKEN');
    expect(
      codeOf(() => decideDefineRole(state, { roleId: 'role_2', orgId: 'a', name: 'Lead reader', permissions: [] })),
    ).toBe('none');
    expect(codeOf(() => decideUpdateRole(state, { roleId: 'member', name: 'X' }))).toBe('IAM_ERR_NOT_FOUND');
    expect(codeOf(() => decideUpdateRole(state, { roleId: 'role_1', name: 'X', expectedVersion: 7 }))).toBe(
      'IAM_ERR_PRECONDITION_FAILED',
    );
  });

  it('delete a role in use only with removeGrants, ending its grants first in the same decision', () => {
    const state = setup();
    commit(
      state,
      decideDefineRole(state, { roleId: 'role_1', orgId: 'root', name: 'Viewer', permissions: ['orgs:read'] }),
    );
    commit(state, [
      { type: 'UserAddedToOrg', streamId: 'membership-a-u1', data: { orgId: 'a', userId: 'u1', roles: ['role_1'] } },
      {
        type: 'UserAddedToOrg',
        streamId: 'membership-a1-u2',
        data: { orgId: 'a1', userId: 'u2', roles: ['member', 'role_1'] },
      },
      {
        type: 'ClientCredentialIssued',
        streamId: 'client-c1',
        data: {
          clientCredentialId: 'c1',
          clientId: 'cli_1',
          name: 'c',
          orgId: 'a1',
          scopes: ['orgs:read'],
          roles: ['role_1'],
        },
      },
    ]);
    expect(codeOf(() => decideDeleteRole(state, { roleId: 'role_1' }))).toBe('IAM_ERR_DEFINITION_IN_USE');
    const events = decideDeleteRole(state, { roleId: 'role_1', removeGrants: true });
    const pairs = events.map((e) => [e.type, e.data]);
    // The memberships in any order, then the clients, then the role itself.
    expect(pairs.slice(0, 2)).toEqual(
      expect.arrayContaining([
        ['UserRemovedFromOrg', { orgId: 'a', userId: 'u1' }],
        ['OrgUserUpdated', { orgId: 'a1', userId: 'u2', roles: ['member'] }],
      ]),
    );
    expect(pairs.slice(2)).toEqual([
      ['ClientCredentialRolesChanged', { clientCredentialId: 'c1', clientId: 'cli_1', orgId: 'a1', roles: [] }],
      ['RoleDeleted', { roleId: 'role_1', orgId: 'root' }],
    ]);
    commit(state, events);
    expect(state.roles.get('role_1')).toBeUndefined();
  });
});

describe('moves and deletes of organizations that define or use roles', () => {
  it('refuse a move that would leave a grant or a role definition below a definition it no longer sees', () => {
    const state = setup();
    commit(state, decideDefinePermission(state, { orgId: 'root', name: 'billing:approve' }));
    commit(state, decideDefineRole(state, { roleId: 'role_1', orgId: 'root', name: 'V', permissions: ['orgs:read'] }));
    // Within the tree: fine. Out of it, with nothing used: fine.
    expect(codeOf(() => requireNoDanglingAfterMove(state, 'a1', 'root'))).toBe('none');
    expect(codeOf(() => requireNoDanglingAfterMove(state, 'a1', 'other'))).toBe('none');
    commit(state, [
      { type: 'UserAddedToOrg', streamId: 'membership-a1-u1', data: { orgId: 'a1', userId: 'u1', roles: ['role_1'] } },
    ]);
    expect(codeOf(() => requireNoDanglingAfterMove(state, 'a', 'other'))).toBe('IAM_ERR_DEFINITION_IN_USE');
    expect(codeOf(() => requireNoDanglingAfterMove(state, 'a', null))).toBe('IAM_ERR_DEFINITION_IN_USE');
    expect(codeOf(() => requireNoDanglingAfterMove(state, 'a1', 'root'))).toBe('none');
    commit(state, [{ type: 'UserRemovedFromOrg', streamId: 'membership-a1-u1', data: { orgId: 'a1', userId: 'u1' } }]);
    commit(
      state,
      decideDefineRole(state, { roleId: 'role_2', orgId: 'a1', name: 'B', permissions: ['billing:approve'] }),
    );
    expect(codeOf(() => requireNoDanglingAfterMove(state, 'a', 'other'))).toBe('IAM_ERR_DEFINITION_IN_USE');
  });

  it('refuse a move into another tree that defines an application permission of the same name (409)', () => {
    const state = setup();
    commit(state, decideDefinePermission(state, { orgId: 'other', name: 'billing:approve' }));
    commit(state, decideDefinePermission(state, { orgId: 'a1', name: 'billing:approve' }));
    expect(codeOf(() => requireNamesFreeAfterMove(state, 'a', 'other'))).toBe('IAM_ERR_NAME_TAKEN');
    expect(codeOf(() => requireNamesFreeAfterMove(state, 'a1', 'other'))).toBe('IAM_ERR_NAME_TAKEN');
    expect(codeOf(() => requireNamesFreeAfterMove(state, 'other', 'a'))).toBe('IAM_ERR_NAME_TAKEN');
    // Within a tree, or out of it as a root: no new neighbour for the name.
    expect(codeOf(() => requireNamesFreeAfterMove(state, 'a1', 'root'))).toBe('none');
    expect(codeOf(() => requireNamesFreeAfterMove(state, 'a', null))).toBe('none');
  });

  it('end the definitions made on a deleted organization, after its grants and before the organization', () => {
    const state = setup();
    commit(state, decideDefinePermission(state, { orgId: 'a', name: 'billing:approve' }));
    commit(
      state,
      decideDefineRole(state, { roleId: 'role_1', orgId: 'a1', name: 'B', permissions: ['billing:approve'] }),
    );
    const events = decideDeleteOrg(state.orgs, { orgId: 'a', recursive: true }, state.memberships, state.roles);
    expect(events.map((e) => e.type)).toEqual([
      'RoleDeleted',
      'OrgDeleted',
      'ApplicationPermissionDeleted',
      'OrgDeleted',
    ]);
    commit(state, events);
    expect(state.roles.permissionsVisibleAt('root')).toEqual([]);
    // Gone from the index, not only from what root sees: the role is no more, the permission's name is free again.
    expect(state.roles.get('role_1')).toBeUndefined();
    expect(decideDefinePermission(state, { orgId: 'root', name: 'billing:approve' })).toHaveLength(1);
  });
});
