import {
  BUILT_IN_ROLES,
  BUILT_IN_ROLE_CATALOG,
  IamError,
  PERMISSIONS,
  normaliseRoles,
  type Role,
  type RoleCatalog,
  type RoleDefinition,
} from '@arbor/domain';
import type { AccessFacts, OrgRef } from './access-facts';
import { AccessPolicy } from './access-policy';
import type { UserPrincipal } from './principal';

/**
 * The policy over role definitions: what a role grants, and where, is the definition's. The facts are a
 * small in-memory tree (the port's contract, as the read models and the command model implement it):
 *
 *     r ─ a ─ a1
 *       │   └ a2
 *       └ b
 */
const PARENTS: Record<string, string | null> = { r: null, a: 'r', a1: 'a', a2: 'a', b: 'r' };

function facts(memberships: Record<string, Record<string, { roles: Role[]; pending?: true }>>): AccessFacts {
  const ancestors = (orgId: string): string[] => {
    const out: string[] = [];
    for (let p = PARENTS[orgId]; p; p = PARENTS[p]) out.unshift(p);
    return out;
  };
  const confirmed = (orgId: string, userId: string) => {
    const m = memberships[orgId]?.[userId];
    return m && !m.pending ? m.roles : undefined;
  };
  return {
    org: async (orgId) => (orgId in PARENTS ? { id: orgId, parentId: PARENTS[orgId] } : undefined),
    ancestorIds: async (orgId) => (orgId in PARENTS ? ancestors(orgId) : []),
    effectiveRoles: async (userId, orgId) =>
      orgId in PARENTS ? normaliseRoles([...ancestors(orgId), orgId].flatMap((id) => confirmed(id, userId) ?? [])) : [],
    membershipRoots: async (userId) =>
      Object.keys(memberships)
        .filter((orgId) => confirmed(orgId, userId))
        .map((orgId) => ({ orgId, roles: confirmed(orgId, userId)! })),
    directRoles: async (orgId, userId) => memberships[orgId]?.[userId]?.roles,
    isPendingMember: async (orgId, userId) => memberships[orgId]?.[userId]?.pending === true,
    clientOrg: async () => undefined,
    clientRoles: async () => undefined,
    isPlatformAdminUser: async () => false,
    applicationPermissionsAt: async () => [],
  };
}

const user = (id: string): UserPrincipal => ({
  type: 'user',
  id,
  platformAdmin: false,
  scopes: new Set(PERMISSIONS),
  tokenId: `jti-${id}`,
});

/** Not a built-in: reads client credentials, on the organization it is held on only. */
const clientViewer: RoleDefinition = {
  id: 'rol_clientviewer',
  name: 'Client viewer',
  description: 'Sees the client credentials of one organization.',
  permissions: ['clients:read'],
  appliesTo: 'organization',
  orgId: 'r',
};
/** Writes organizations, on its organization only. */
const orgWriter: RoleDefinition = { ...clientViewer, id: 'rol_orgwriter', permissions: ['orgs:read', 'orgs:write'] };
/** The same grant as clientViewer, over the subtree. */
const subtreeClientViewer: RoleDefinition = { ...clientViewer, id: 'rol_subtreeviewer', appliesTo: 'subtree' };
/** Not called owner, but grants orgs:delete: the owner rule guards it. */
const deleter: RoleDefinition = {
  ...clientViewer,
  id: 'rol_deleter',
  permissions: ['orgs:read', 'orgs:delete'],
  appliesTo: 'subtree',
};

const custom = new Map([clientViewer, orgWriter, subtreeClientViewer, deleter].map((d) => [d.id, d]));
const catalog: RoleCatalog = {
  visibleAt: () => [...BUILT_IN_ROLES, ...custom.values()],
  get: (id) => custom.get(id) ?? BUILT_IN_ROLE_CATALOG.get(id),
};

const codeOf = (p: Promise<unknown>): Promise<string> =>
  p.then(
    () => 'no error',
    (e: unknown) => (e instanceof IamError ? e.code : Promise.reject(e)),
  );

describe('the access policy over role definitions', () => {
  it('grants a built-in role on its organization and everything below, as contract section 4 says', async () => {
    const policy = new AccessPolicy(facts({ a: { u: { roles: ['admin'] } } }));
    const admin = [
      'orgs:read',
      'orgs:write',
      'users:read',
      'users:write',
      'clients:read',
      'clients:write',
      'roles:read',
      'roles:write',
      'access:evaluate',
    ];
    expect([...(await policy.permissionsOn(user('u'), 'a'))].sort()).toEqual([...admin].sort());
    expect([...(await policy.permissionsOn(user('u'), 'a1'))].sort()).toEqual([...admin].sort());
    expect((await policy.permissionsOn(user('u'), 'r')).size).toBe(0);
    expect((await policy.permissionsOn(user('u'), 'b')).size).toBe(0);
    expect(await policy.subtreesWith(user('u'), 'clients:read')).toEqual(['a']);
  });

  it('follows a definition that grants clients:read on its organization only, not below', async () => {
    const policy = new AccessPolicy(facts({ a: { u: { roles: ['rol_clientviewer'] } } }), catalog);
    expect([...(await policy.permissionsOn(user('u'), 'a'))]).toEqual(['clients:read']);
    expect((await policy.permissionsOn(user('u'), 'a1')).size).toBe(0);
    expect((await policy.requireOnOrg(user('u'), 'clients:read', 'a')).id).toBe('a');
    expect(await codeOf(policy.requireOnOrg(user('u'), 'orgs:read', 'a'))).toBe('IAM_ERR_FORBIDDEN');
    expect(await codeOf(policy.requireOnOrg(user('u'), 'clients:read', 'a1'))).toBe('IAM_ERR_NOT_FOUND');
    // It reaches no subtree, so subtree-filtered scopes do not count it; lists count its organization alone.
    expect(await policy.subtreesWith(user('u'), 'clients:read')).toEqual([]);
    expect(await policy.listScopeWith(user('u'), 'clients:read')).toEqual({ withinSubtreesOf: [], withinOrgs: ['a'] });
    expect(await policy.listScopeWith(user('u'), 'orgs:read')).toEqual({ withinSubtreesOf: [], withinOrgs: [] });
    const narrowed = { ...user('u'), scopes: new Set(['orgs:read'] as const) };
    expect(await policy.listScopeWith(narrowed, 'clients:read')).toEqual({ withinSubtreesOf: [], withinOrgs: [] });
    expect(await policy.listScopeWith({ ...user('u'), platformAdmin: true }, 'clients:read')).toBeUndefined();
  });

  it('follows the same grant over the subtree when the definition says so', async () => {
    const policy = new AccessPolicy(facts({ a: { u: { roles: ['rol_subtreeviewer'] } } }), catalog);
    expect([...(await policy.permissionsOn(user('u'), 'a1'))]).toEqual(['clients:read']);
    expect((await policy.permissionsOn(user('u'), 'b')).size).toBe(0);
    expect(await policy.subtreesWith(user('u'), 'clients:read')).toEqual(['a']);
  });

  it('does not count an organization-only role held above, nor one on a pending membership', async () => {
    const policy = new AccessPolicy(
      facts({
        r: { u: { roles: ['rol_clientviewer', 'member'] } },
        a: { v: { roles: ['rol_clientviewer'], pending: true } },
      }),
      catalog,
    );
    expect([...(await policy.permissionsOn(user('u'), 'r'))].sort()).toEqual([
      'clients:read',
      'orgs:read',
      'roles:read',
      'users:read',
    ]);
    expect([...(await policy.permissionsOn(user('u'), 'a'))].sort()).toEqual(['orgs:read', 'roles:read', 'users:read']);
    expect((await policy.permissionsOn(user('v'), 'a')).size).toBe(0);
  });

  it('grants nothing for a role id it does not know', async () => {
    const policy = new AccessPolicy(facts({ a: { u: { roles: ['rol_clientviewer'] } } }));
    expect((await policy.permissionsOn(user('u'), 'a')).size).toBe(0);
  });

  it('moves need orgs:write from a grant covering both parents: an organization-only role on their common ancestor is not one', async () => {
    const org = { id: 'a1', parentId: 'a' } satisfies OrgRef;
    // Admin on both parents through two grants, plus orgs:write on their common ancestor r alone.
    const held = (rRole: Role) =>
      facts({ r: { u: { roles: [rRole] } }, a: { u: { roles: ['admin'] } }, b: { u: { roles: ['admin'] } } });
    expect(await codeOf(new AccessPolicy(held('rol_orgwriter'), catalog).requireMayMove(user('u'), org, 'b'))).toBe(
      'IAM_ERR_FORBIDDEN',
    );
    expect(await codeOf(new AccessPolicy(held('admin'), catalog).requireMayMove(user('u'), org, 'b'))).toBe('no error');
  });

  it('lets nobody grant or take away a role granting a permission they do not hold there', async () => {
    const policy = new AccessPolicy(
      facts({ a: { m: { roles: ['member'] }, cv: { roles: ['rol_clientviewer'] } }, r: { adm: { roles: ['admin'] } } }),
      catalog,
    );
    // A member holds users:read but not clients:read: the client-viewer role is not theirs to hand out.
    await expect(policy.requireMayGrant(user('m'), 'a', ['rol_clientviewer'])).rejects.toThrow(
      'The caller does not hold clients:read on this organization, so cannot grant or take away the rol_clientviewer role.',
    );
    expect(await codeOf(policy.requireMayGrant(user('m'), 'a', ['admin']))).toBe('IAM_ERR_FORBIDDEN');
    expect(await codeOf(policy.requireMayGrant(user('m'), 'a', ['member']))).toBe('no error');
    // An organization-only grant counts only where it is held; a subtree admin above holds it everywhere below.
    expect(await codeOf(policy.requireMayGrant(user('cv'), 'a', ['rol_clientviewer']))).toBe('no error');
    expect(await codeOf(policy.requireMayGrant(user('cv'), 'a1', ['rol_clientviewer']))).toBe('IAM_ERR_FORBIDDEN');
    expect(await codeOf(policy.requireMayGrant(user('adm'), 'a1', ['rol_orgwriter', 'rol_subtreeviewer']))).toBe(
      'no error',
    );
  });

  it('lets no one grant a subtree-reach role, define a role or give a client scopes from an organization-only grant', async () => {
    // cv holds clients:read on `a` through an organization-only role: granting the same permissions with
    // subtree reach would give them below `a`, where cv holds nothing.
    const policy = new AccessPolicy(facts({ a: { cv: { roles: ['rol_clientviewer'] } } }), catalog);
    await expect(policy.requireMayGrant(user('cv'), 'a', ['rol_subtreeviewer'])).rejects.toThrow(
      'The caller does not hold clients:read on this organization and everything below it, so cannot grant or take away the rol_subtreeviewer role.',
    );
    expect(await codeOf(policy.requireMayDefine(user('cv'), 'a', ['clients:read']))).toBe('IAM_ERR_FORBIDDEN');
    expect(await codeOf(policy.requireHoldsAll(user('cv'), 'a', ['clients:read'], 'subtree'))).toBe(
      'IAM_ERR_FORBIDDEN',
    );
    expect(await codeOf(policy.requireHoldsAll(user('cv'), 'a', ['clients:read']))).toBe('no error');
  });

  it('keeps the owner rule over definitions: granting a role that grants orgs:delete needs orgs:delete', async () => {
    const policy = new AccessPolicy(
      facts({ a: { admin: { roles: ['admin'] }, owner: { roles: ['owner'] } } }),
      catalog,
    );
    for (const roles of [['owner'], ['member', 'owner'], ['rol_deleter']])
      expect(await codeOf(policy.requireMayGrant(user('admin'), 'a', roles))).toBe('IAM_ERR_FORBIDDEN');
    await expect(policy.requireMayGrant(user('admin'), 'a', ['owner'])).rejects.toThrow(
      'Only an owner may grant or take away the owner role.',
    );
    for (const roles of [['member'], ['admin'], ['rol_clientviewer'], ['king'], []])
      expect(await codeOf(policy.requireMayGrant(user('admin'), 'a', roles))).toBe('no error');
    for (const roles of [['owner'], ['rol_deleter']])
      expect(await codeOf(policy.requireMayGrant(user('owner'), 'a1', roles))).toBe('no error');
  });
});
