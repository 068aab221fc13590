import {
  AccessPolicy,
  ReadModelRoleCatalog,
  readModelAccessFacts,
  type Principal,
  type ReadModels,
} from '@arbor/application';
import { PERMISSIONS } from '@arbor/domain';
import { ACCESS_TREE } from './access-tree';
import { Log } from './log';
import type { ReadModelsHarness } from './read-models-harness';

/** A user's principal with every permission in its token: what the roles give is what counts. */
const user = (id: string): Principal => ({
  type: 'user',
  id,
  platformAdmin: false,
  scopes: new Set(PERMISSIONS),
  tokenId: 'jti',
});

/**
 * The gateway's RoleCatalog (ReadModelRoleCatalog) over an adapter's read models, behind the AccessPolicy that
 * decides the API's own checks and the access decisions: custom roles count as soon as the read models hold
 * them, and a changed or deleted definition counts at the next decision. Call inside the adapter's `describe`.
 */
export function roleCatalogConformance(harness: ReadModelsHarness): void {
  let rm: ReadModels;
  let log: Log;
  let policy: AccessPolicy;
  let catalog: ReadModelRoleCatalog;

  beforeEach(async () => {
    rm = await harness.open();
    log = new Log();
    catalog = new ReadModelRoleCatalog(rm.roles);
    policy = new AccessPolicy(readModelAccessFacts(rm), catalog);
    await rm.apply([
      ...ACCESS_TREE.map(([id, name, parent]) => log.created(id, name, parent)),
      log.user('u1', { email: 'ann@example.com', name: 'Ann' }),
      log.role('RoleDefined', 'role_viewer', 'r', ['orgs:read', 'billing:invoices:read']),
      log.role('RoleDefined', 'role_local', 'a', ['users:read'], { appliesTo: 'organization' }),
      log.added('a', 'u1', ['role_viewer', 'role_local']),
    ]);
  });
  afterEach(() => harness.release(rm));

  const held = async (orgId: string) => [...(await policy.permissionsOn(user('u1'), orgId))].sort();
  const heldBy = async (orgId: string) =>
    [...(await policy.heldBy({ type: 'user', id: 'u1', platformAdmin: false }, orgId))].sort();

  it('gives the permissions of custom roles where they reach: the subtree, or the organization alone', async () => {
    expect(await held('a')).toEqual(['orgs:read', 'users:read']);
    expect(await held('a11')).toEqual(['orgs:read']);
    expect(await held('b')).toEqual([]);
    expect(await heldBy('a1')).toEqual(['billing:invoices:read', 'orgs:read']);
    expect(await policy.userRolesOn('u1', 'a')).toEqual(['role_local', 'role_viewer']);
  });

  it('follows a definition changed or deleted after the catalog loaded it', async () => {
    expect(await held('a1')).toEqual(['orgs:read']);
    await rm.apply([log.role('RoleUpdated', 'role_viewer', 'r', ['clients:read'])]);
    expect(await held('a1')).toEqual(['clients:read']);
    await rm.apply([log.rolesSet('a', 'u1', ['role_local']), log.roleDeleted('role_viewer', 'r')]);
    expect(catalog.get('role_viewer')).toBeDefined();
    expect(await held('a')).toEqual(['users:read']);
    expect(catalog.get('role_viewer')).toBeUndefined();
  });

  it('counts a client credential holding a custom role (access decisions: scopes and roles)', async () => {
    await rm.apply([log.role('RoleDefined', 'role_new', 'a', ['reports:export'])]);
    const client = { type: 'client' as const, orgId: 'a', grants: [], roles: ['role_new'] };
    expect([...(await policy.heldBy(client, 'a11'))]).toEqual(['reports:export']);
  });

  it('lists the roles visible at an organization from the ancestors it is given', async () => {
    await catalog.refresh();
    const ancestors = (await rm.orgs.parents('a1')).map((o) => o.id);
    expect(catalog.visibleAt('a1', ancestors).map((r) => r.id)).toEqual([
      'member',
      'admin',
      'owner',
      'role_viewer',
      'role_local',
    ]);
    expect(catalog.visibleAt('o', []).map((r) => r.id)).toEqual(['member', 'admin', 'owner']);
    expect(() => catalog.visibleAt('a1')).toThrow(/ancestors/);
  });
}
