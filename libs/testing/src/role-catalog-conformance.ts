import {
  AccessPolicy,
  AccessSearch,
  ReadModelRoleCatalog,
  permissionsAnywhere,
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

  it("lets a user token's scope hold the built-in permissions their custom roles grant", async () => {
    expect(await permissionsAnywhere(rm, { id: 'u1', platformAdmin: false }, catalog)).toEqual([
      'orgs:read',
      'users:read',
    ]);
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

  describe('owner-level roles and platform admins (design13)', () => {
    beforeEach(async () => {
      await rm.apply([
        log.permission('ApplicationPermissionDefined', 'a', 'billing:invoices:approve'),
        log.user('u2', { email: 'bo@example.com', name: 'Bo' }),
        log.user('pa', { email: 'pa@example.com', name: 'Pa' }, true),
        log.added('r', 'u2', ['owner']),
        log.role('RoleDefined', 'role_boss', 'r', ['orgs:read', 'orgs:delete'], { appliesTo: 'organization' }),
        log.clientIssued('c1', 'cli_1', 'a1', [], ['role_boss']),
      ]);
    });
    const approve = 'billing:invoices:approve';
    const holds = async (holder: Parameters<AccessPolicy['heldBy']>[0], orgId: string) =>
      (await policy.heldBy(holder, orgId)).has(approve as never);

    it('hold every application permission visible where their role reaches, in decisions only', async () => {
      const owner = { type: 'user' as const, id: 'u2', platformAdmin: false };
      expect([
        await holds(owner, 'a'),
        await holds(owner, 'a11'),
        await holds(owner, 'r'),
        await holds(owner, 'b'),
      ]).toEqual([true, true, false, false]);
      const client = { type: 'client' as const, orgId: 'a1', grants: [], roles: ['role_boss'] };
      expect([await holds(client, 'a1'), await holds(client, 'a11')]).toEqual([true, false]);
      const admin = { type: 'user' as const, id: 'pa', platformAdmin: true };
      expect([await holds(admin, 'a11'), await holds(admin, 'o')]).toEqual([true, false]);
      // Tokens carry built-in permissions only: the API's own checks never see it.
      expect([...(await policy.permissionsOn(user('u2'), 'a'))]).not.toContain(approve);
    });

    it('are found by the searches: organizations where an owner holds it, and who holds it on one', async () => {
      const search = new AccessSearch(rm, catalog);
      const sorted = (ids: string[]) => [...ids].sort();
      expect(await search.resources({ type: 'user', id: 'u2' }, approve, undefined, '', 100)).toEqual(
        sorted(['a', 'a1', 'a11']),
      );
      expect(await search.resources({ type: 'client', id: 'cli_1' }, approve, undefined, '', 100)).toEqual(['a1']);
      expect(await search.resources({ type: 'user', id: 'u1' }, approve, undefined, '', 100)).toEqual([]);
      expect((await search.subjects('user', 'a11', approve, '', 100)).map((s) => s.id)).toEqual(['pa', 'u2']);
      expect((await search.subjects('client', 'a1', approve, '', 100)).map((s) => s.id)).toEqual(['cli_1']);
      expect(await search.subjects('client', 'a11', approve, '', 100)).toEqual([]);
      // A platform admin holds it where it is visible, as the decision above says (not on b, nor on o).
      expect((await search.subjects('user', 'b', approve, '', 100)).map((s) => s.id)).toEqual([]);
      expect(await search.resources({ type: 'user', id: 'pa' }, approve, undefined, '', 100)).toEqual(
        sorted(['a', 'a1', 'a11']),
      );
      // Listed to platform admins only (the route's choice): without them, the owner alone.
      expect((await search.subjects('user', 'a11', approve, '', 100, false)).map((s) => s.id)).toEqual(['u2']);
    });
  });

  describe('custom roles in the searches', () => {
    beforeEach(async () => {
      await rm.apply([
        log.role('RoleDefined', 'role_sub', 'r', ['reports:export']),
        log.role('RoleDefined', 'role_here', 'r', ['reports:export'], { appliesTo: 'organization' }),
        log.user('u3', { email: 'cy@example.com', name: 'Cy' }),
        log.user('u4', { email: 'di@example.com', name: 'Di' }),
        log.added('a1', 'u3', ['role_sub']),
        log.added('a1', 'u4', ['role_here']),
        log.clientIssued('c2', 'cli_2', 'a1', ['orgs:read'], ['role_sub']),
        log.clientIssued('c3', 'cli_3', 'a1', ['orgs:read'], ['role_here']),
      ]);
    });
    const action = 'reports:export';

    it('search/resource: the subtree for a subtree role held on a depth-2 organization, that organization alone otherwise', async () => {
      const search = new AccessSearch(rm, catalog);
      expect(await search.resources({ type: 'user', id: 'u3' }, action, undefined, '', 100)).toEqual(['a1', 'a11']);
      expect(await search.resources({ type: 'user', id: 'u4' }, action, undefined, '', 100)).toEqual(['a1']);
      expect(await search.resources({ type: 'client', id: 'cli_2' }, action, undefined, '', 100)).toEqual([
        'a1',
        'a11',
      ]);
      expect(await search.resources({ type: 'client', id: 'cli_3' }, action, undefined, '', 100)).toEqual(['a1']);
      expect(
        await search.resources({ type: 'user', id: 'u3' }, action, { subtreeRoots: ['a11'], orgIds: [] }, '', 100),
      ).toEqual(['a11']);
    });

    it('search/subject: users and clients granted the role, inherited only for the subtree role', async () => {
      const search = new AccessSearch(rm, catalog);
      const ids = async (type: 'user' | 'client', orgId: string) =>
        (await search.subjects(type, orgId, action, '', 100)).map((s) => s.id);
      expect([await ids('user', 'a1'), await ids('client', 'a1')]).toEqual([
        ['u3', 'u4'],
        ['cli_2', 'cli_3'],
      ]);
      expect([await ids('user', 'a11'), await ids('client', 'a11')]).toEqual([['u3'], ['cli_2']]);
      expect([await ids('user', 'a'), await ids('client', 'a')]).toEqual([[], []]);
      // A definition changed after the catalog loaded it counts at the next search.
      await rm.apply([log.role('RoleUpdated', 'role_sub', 'r', ['orgs:read'])]);
      expect([await ids('user', 'a11'), await ids('client', 'a11')]).toEqual([[], []]);
    });
  });
}
