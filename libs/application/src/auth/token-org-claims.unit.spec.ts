import { BUILT_IN_ROLES, type Permission, type Role, type RoleCatalog, type RoleDefinition } from '@arbor/domain';
import type { AccessFacts } from './access-facts';
import { AccessPolicy } from './access-policy';
import {
  MAX_TOKEN_PERMISSIONS,
  ORG_OUT_OF_REACH,
  clientOrgClaims,
  readOrgIdParameter,
  userOrgClaims,
} from './token-org-claims';

/*
 * The claims of a token for one organization (issue 13), over custom role definitions the HTTP suites cannot
 * define yet: which roles reach (an organization-only role counts on its own organization alone), application
 * permissions included, and the bound on the permissions claim.   r ─ a ─ a1
 */
const PARENTS: Record<string, string | null> = { r: null, a: 'r', a1: 'a' };
const ancestors = (orgId: string): string[] => {
  const out: string[] = [];
  for (let p = PARENTS[orgId]; p; p = PARENTS[p]) out.unshift(p);
  return out;
};

function policy(memberships: Record<string, Role[]>, roles: RoleDefinition[]): AccessPolicy {
  const byId = new Map<string, RoleDefinition>([...BUILT_IN_ROLES, ...roles].map((r) => [r.id, r]));
  const catalog: RoleCatalog = { visibleAt: () => [...byId.values()], get: (id) => byId.get(id) };
  const facts: AccessFacts = {
    org: async (orgId) => (orgId in PARENTS ? { id: orgId, parentId: PARENTS[orgId] } : undefined),
    ancestorIds: async (orgId) => (orgId in PARENTS ? ancestors(orgId) : []),
    effectiveRoles: async (_u, orgId) => [...ancestors(orgId), orgId].flatMap((id) => memberships[id] ?? []),
    membershipRoots: async () => [],
    directRoles: async (orgId) => memberships[orgId],
    isPendingMember: async () => false,
    clientOrg: async () => undefined,
    clientRoles: async () => undefined,
    isPlatformAdminUser: async () => false,
    applicationPermissionsAt: async () => [],
  };
  return new AccessPolicy(facts, catalog);
}

const role = (id: string, permissions: string[], appliesTo: 'subtree' | 'organization'): RoleDefinition => ({
  id,
  name: id,
  description: id,
  permissions: permissions as Permission[],
  appliesTo,
  orgId: 'r',
});
const approver = role('role_approver', ['billing:invoices:approve'], 'organization');
const viewer = role('role_viewer', ['billing:invoices:read'], 'subtree');
const alice = { id: 'usr_alice', platformAdmin: false };

describe('token claims for one organization', () => {
  it('counts an organization-only role on its own organization alone, and application permissions', async () => {
    const p = policy({ a: ['role_approver', 'role_viewer'] }, [approver, viewer]);
    expect(await userOrgClaims(p, alice, 'a')).toEqual({
      ok: true,
      claims: {
        org_id: 'a',
        roles: ['role_approver', 'role_viewer'],
        permissions: ['billing:invoices:approve', 'billing:invoices:read'],
      },
    });
    expect(await userOrgClaims(p, alice, 'a1')).toEqual({
      ok: true,
      claims: { org_id: 'a1', roles: ['role_viewer'], permissions: ['billing:invoices:read'] },
    });
    // Above the membership, and an unknown organization: one answer.
    expect(await userOrgClaims(p, alice, 'r')).toEqual({ ok: false, description: ORG_OUT_OF_REACH });
    expect(await userOrgClaims(p, alice, 'nope')).toEqual({ ok: false, description: ORG_OUT_OF_REACH });
  });

  it('gives a client its scopes and the roles that reach, within its subtree only', async () => {
    const p = policy({}, [approver, viewer]);
    const client = { orgId: 'a', scopes: ['orgs:read'], roles: ['role_approver', 'role_viewer'] };
    expect(await clientOrgClaims(p, client, 'a1')).toEqual({
      ok: true,
      claims: { org_id: 'a1', roles: ['role_viewer'], permissions: ['billing:invoices:read', 'orgs:read'] },
    });
    expect((await clientOrgClaims(p, client, 'a')).ok && true).toBe(true);
    expect(await clientOrgClaims(p, client, 'r')).toEqual({ ok: false, description: ORG_OUT_OF_REACH });
  });

  it(`refuses a token whose permissions claim would pass ${MAX_TOKEN_PERMISSIONS}, rather than cut it`, async () => {
    const many = (n: number) => Array.from({ length: n }, (_, i) => `app:perm${i}`);
    const atBound = policy({ a: ['role_many'] }, [role('role_many', many(MAX_TOKEN_PERMISSIONS), 'subtree')]);
    const claims = await userOrgClaims(atBound, alice, 'a');
    expect(claims.ok && claims.claims.permissions).toHaveLength(MAX_TOKEN_PERMISSIONS);
    const over = policy({ a: ['role_many'] }, [role('role_many', many(MAX_TOKEN_PERMISSIONS + 1), 'subtree')]);
    const refused = await userOrgClaims(over, alice, 'a');
    expect(refused.ok).toBe(false);
    expect(!refused.ok && refused.description).toMatch(/more than 100 permissions/);
  });

  it('reads org_id: absent, or one non-empty id of at most 64 characters', () => {
    expect(readOrgIdParameter(undefined)).toEqual({ ok: true, value: undefined });
    expect(readOrgIdParameter('org_1')).toEqual({ ok: true, value: 'org_1' });
    for (const bad of ['', 3, ['org_1'], 'o'.repeat(65)]) expect(readOrgIdParameter(bad).ok).toBe(false);
  });
});
