import { FieldChecks } from './field-rules';
import { IamError } from './iam-error';
import { decideAddUserToOrg, type IdentityState } from './member-decisions';
import { MembershipIndex } from './membership-index';
import { OrgTree } from './org-tree';
import { PERMISSION_DEFINITIONS, PERMISSIONS } from './permissions';
import {
  BUILT_IN_ROLES,
  BUILT_IN_ROLE_CATALOG,
  BUILT_IN_ROLE_IDS,
  changedRoles,
  isOwnerLevel,
  normaliseRoles,
  permissionsOfRoles,
  type RoleCatalog,
  type RoleDefinition,
} from './roles';
import { UserDirectory } from './user-directory';

/** A role no built-in is: reading client credentials, on its own organization only, defined by `r`. */
const clientViewer: RoleDefinition = {
  id: 'rol_clientviewer',
  name: 'Client viewer',
  description: 'Sees the client credentials of one organization.',
  permissions: ['clients:read'],
  appliesTo: 'organization',
  orgId: 'r',
};

/** Built-ins everywhere, `clientViewer` only at `r` and below. */
const catalog: RoleCatalog = {
  visibleAt: (orgId) => (orgId === 'r' || orgId === 'a' ? [...BUILT_IN_ROLES, clientViewer] : BUILT_IN_ROLES),
  get: (id) => (id === clientViewer.id ? clientViewer : BUILT_IN_ROLE_CATALOG.get(id)),
};

describe('permissions', () => {
  it('are one list, each with a description, without duplicates', () => {
    expect(PERMISSIONS).toEqual(PERMISSION_DEFINITIONS.map((p) => p.id));
    expect(new Set(PERMISSIONS).size).toBe(PERMISSIONS.length);
    for (const p of PERMISSION_DEFINITIONS) expect(p.description.length).toBeGreaterThan(10);
  });
});

describe('built-in role definitions', () => {
  it('keep the ids the log carries, weakest first, each applying to the subtree and defined by nobody', () => {
    expect(BUILT_IN_ROLE_IDS).toEqual(['member', 'admin', 'owner']);
    for (const role of BUILT_IN_ROLES) {
      expect(role).toMatchObject({ appliesTo: 'subtree', orgId: null });
      expect(role.name).not.toBe('');
      expect(role.description).not.toBe('');
      // Known permissions, in canonical order, each once.
      expect(role.permissions).toEqual(PERMISSIONS.filter((p) => (role.permissions as readonly string[]).includes(p)));
    }
  });

  it('grant the permissions of contract section 4, and none grants events:read or tokens:introspect', () => {
    expect([...permissionsOfRoles(['member'])]).toEqual(['orgs:read', 'users:read', 'roles:read']);
    expect([...permissionsOfRoles(['admin'])]).toEqual([
      'orgs:read',
      'orgs:write',
      'users:read',
      'users:write',
      'clients:read',
      'clients:write',
      'roles:read',
      'roles:write',
      'access:evaluate',
    ]);
    expect([...permissionsOfRoles(['owner'])]).toEqual([
      'orgs:read',
      'orgs:write',
      'orgs:delete',
      'users:read',
      'users:write',
      'clients:read',
      'clients:write',
      'roles:read',
      'roles:write',
      'access:evaluate',
    ]);
    const all = permissionsOfRoles(BUILT_IN_ROLE_IDS);
    expect(all.has('events:read') || all.has('tokens:introspect')).toBe(false);
  });

  it('are what the built-in catalog knows, at every organization', () => {
    expect(BUILT_IN_ROLE_CATALOG.visibleAt('anywhere').map((r) => r.id)).toEqual(['member', 'admin', 'owner']);
    expect(BUILT_IN_ROLE_CATALOG.get('admin')?.name).toBe('Admin');
    expect(BUILT_IN_ROLE_CATALOG.get('king')).toBeUndefined();
    expect(BUILT_IN_ROLE_CATALOG.get('__proto__')).toBeUndefined();
    expect(permissionsOfRoles(['king']).size).toBe(0);
  });

  it('make owner the one owner-level role: the one that grants orgs:delete', () => {
    expect(BUILT_IN_ROLES.filter(isOwnerLevel).map((r) => r.id)).toEqual(['owner']);
    expect(isOwnerLevel(clientViewer)).toBe(false);
    expect(isOwnerLevel({ ...clientViewer, permissions: ['orgs:delete'] })).toBe(true);
  });
});

describe('role lists', () => {
  it('normalise to built-ins weakest first, then other ids in order, each once', () => {
    expect(normaliseRoles(['owner', 'member', 'owner'])).toEqual(['member', 'owner']);
    expect(normaliseRoles(['rol_b', 'admin', 'rol_a', 'rol_b'])).toEqual(['admin', 'rol_a', 'rol_b']);
    expect(normaliseRoles([])).toEqual([]);
  });

  it('changes are the roles granted or taken away', () => {
    expect(changedRoles(['member', 'owner'], ['member'])).toEqual(['owner']);
    expect(changedRoles(['member'], ['admin', 'member'])).toEqual(['admin']);
    expect(changedRoles(['owner'], ['owner'])).toEqual([]);
  });

  it('are validated against the definitions visible at the organization', () => {
    const check = (value: unknown, known?: readonly RoleDefinition[]) => {
      const checks = new FieldChecks();
      const roles = checks.roles('/roles', value, known);
      try {
        checks.done('invalid');
        return roles;
      } catch (e) {
        return (e as IamError).errors;
      }
    };
    expect(check(['owner', 'member'])).toEqual(['member', 'owner']);
    expect(check(['rol_clientviewer'])).toEqual([
      {
        path: '/roles',
        message: 'must be a non-empty list of member, admin, owner; not known there: rol_clientviewer',
      },
    ]);
    expect(check(['rol_clientviewer', 'admin'], catalog.visibleAt('a'))).toEqual(['admin', 'rol_clientviewer']);
    expect(check(['rol_clientviewer'], catalog.visibleAt('b'))).toEqual([
      {
        path: '/roles',
        message: 'must be a non-empty list of member, admin, owner; not known there: rol_clientviewer',
      },
    ]);
    expect(check([1])).toEqual([
      { path: '/roles', message: 'must be a non-empty list of member, admin, owner; not known there: 1' },
    ]);
    // Where custom roles are visible, the message names the unknown ids, never every visible one.
    expect(check(['admin', 'rol_nope'], catalog.visibleAt('a'))).toEqual([
      {
        path: '/roles',
        message:
          'must be a non-empty list of member, admin, owner or custom role ids visible at the organization; not known there: rol_nope',
      },
    ]);
  });

  it("are checked by the decider against the state's catalog, the built-in one when it has none", () => {
    const state: IdentityState = {
      orgs: new OrgTree(),
      users: new UserDirectory(),
      memberships: new MembershipIndex(),
    };
    const created = (orgId: string, parentId: string | null, position: number) => ({
      id: `e${position}`,
      type: 'OrgCreated' as const,
      streamId: `org-${orgId}`,
      streamVersion: 1,
      position,
      occurredAt: '2026-01-01T00:00:00.000Z',
      actor: { type: 'system' as const, id: 'system' },
      data: { orgId, name: orgId, parentId, description: null, metadata: {} },
      orgPath: parentId ? [parentId, orgId] : [orgId],
    });
    state.orgs.apply(created('r', null, 1));
    state.orgs.apply(created('a', 'r', 2));
    const add = (s: IdentityState) =>
      decideAddUserToOrg(s, {
        orgId: 'a',
        roles: ['rol_clientviewer'],
        newUser: { userId: 'u1', emailIndex: 'idx', personal: 'sealed' },
      });
    expect(() => add(state)).toThrow(expect.objectContaining({ code: 'IAM_ERR_VALIDATION' }));
    const added = add({ ...state, roles: catalog }).find((e) => e.type === 'UserAddedToOrg');
    expect(added?.data).toEqual({ orgId: 'a', userId: 'u1', roles: ['rol_clientviewer'] });
  });
});
