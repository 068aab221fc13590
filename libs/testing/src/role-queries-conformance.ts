import type { ProjectableEvent, ReadModels, RoleView } from '@arbor/application';
import { ACCESS_TREE } from './access-tree';
import { Log } from './log';
import type { ReadModelsHarness } from './read-models-harness';

/**
 * The chain these tests look down, depth 0..5: r ── a ── a1 ── a11 ── a111 ── a1111 (ACCESS_TREE plus two
 * levels), one custom role defined at each depth (`role_d<depth>`), two more on `a` to check the order by id,
 * and roles on the other branch (`b`) and the other tree (`o`) that no organization of the chain sees.
 */
const CHAIN = ['r', 'a', 'a1', 'a11', 'a111', 'a1111'];
const roleAt = (depth: number) => `role_d${depth}`;

/** What every adapter's RoleQueries must do, as Jest tests: call it inside the adapter's `describe`. */
export function roleQueriesConformance(harness: ReadModelsHarness): void {
  let rm: ReadModels;
  let log: Log;
  let setup: ProjectableEvent[];

  beforeEach(async () => {
    rm = await harness.open();
    log = new Log();
    setup = [
      ...ACCESS_TREE.map(([id, name, parent]) => log.created(id, name, parent)),
      log.created('a111', 'Alpha 111', 'a11'),
      log.created('a1111', 'Alpha 1111', 'a111'),
      ...CHAIN.map((org, depth) => log.role('RoleDefined', roleAt(depth), org, ['orgs:read'])),
      log.role('RoleDefined', 'role_a2', 'a', ['users:read'], { appliesTo: 'organization' }),
      log.role('RoleDefined', 'role_a0', 'a', ['billing:invoices:approve']),
      log.role('RoleDefined', 'role_b', 'b', ['orgs:read']),
      log.role('RoleDefined', 'role_o', 'o', ['orgs:read']),
      log.permission('ApplicationPermissionDefined', 'r', 'billing:invoices:approve'),
      log.permission('ApplicationPermissionDefined', 'a', 'billing:invoices:read'),
      log.permission('ApplicationPermissionDefined', 'a', 'audit:read'),
      log.permission('ApplicationPermissionDefined', 'a11', 'reports:export'),
      log.permission('ApplicationPermissionDefined', 'o', 'billing:invoices:approve'),
    ];
    await rm.apply(setup);
  });
  afterEach(() => harness.release(rm));

  const ids = (roles: RoleView[]) => roles.map((r) => r.id);
  const names = async (orgId: string) =>
    (await rm.roles.permissionsVisibleAt(orgId)).map((p) => `${p.orgId} ${p.name}`);
  /** Root first, then by id: the chain's roles down to `depth`, with `a`'s two others after `role_d1`. */
  const expectedAt = (depth: number) =>
    CHAIN.slice(0, depth + 1).flatMap((_, d) => (d === 1 ? ['role_a0', 'role_a2', roleAt(1)] : [roleAt(d)]));

  it('holds a role as its last definition says', async () => {
    const defined = setup.find((e) => e.streamId === 'role-role_a2')!;
    const expected: RoleView = {
      id: 'role_a2',
      orgId: 'a',
      name: 'Role role_a2',
      description: 'About role_a2',
      permissions: ['users:read'],
      appliesTo: 'organization',
      createdAt: defined.occurredAt,
      updatedAt: defined.occurredAt,
      version: 1,
    };
    expect(await rm.roles.get('role_a2')).toEqual(expected);
    expect(await rm.roles.get('role_missing')).toBeUndefined();
    expect(await rm.roles.get('a')).toBeUndefined();
  });

  it('sees the roles defined at an organization and above it, root first then by id, at depths 0 to 5', async () => {
    for (let depth = 0; depth < CHAIN.length; depth++)
      expect({ depth, ids: ids(await rm.roles.visibleAt(CHAIN[depth])) }).toEqual({ depth, ids: expectedAt(depth) });
    expect(ids(await rm.roles.visibleAt('b1'))).toEqual([roleAt(0), 'role_b']);
    expect(ids(await rm.roles.visibleAt('o'))).toEqual(['role_o']);
    expect(await rm.roles.visibleAt('missing')).toEqual([]);
    expect((await rm.roles.visibleAt('a11'))[2]).toEqual(await rm.roles.get('role_a2'));
  });

  it('lists every role by id', async () => {
    expect(ids(await rm.roles.all())).toEqual(
      [...CHAIN.map((_, d) => roleAt(d)), 'role_a0', 'role_a2', 'role_b', 'role_o'].sort(),
    );
    expect(await rm.roles.all()).toContainEqual(await rm.roles.get('role_o'));
  });

  it('replaces a definition on update, keeping when it was created', async () => {
    const created = (await rm.roles.get(roleAt(2)))!.createdAt;
    const update = log.role('RoleUpdated', roleAt(2), 'a1', ['orgs:read', 'audit:read'], {
      name: 'Auditor',
      description: 'Reads the audit trail',
      appliesTo: 'organization',
    });
    await rm.apply([update]);
    const expected: RoleView = {
      id: roleAt(2),
      orgId: 'a1',
      name: 'Auditor',
      description: 'Reads the audit trail',
      permissions: ['orgs:read', 'audit:read'],
      appliesTo: 'organization',
      createdAt: created,
      updatedAt: update.occurredAt,
      version: 2,
    };
    expect(await rm.roles.get(roleAt(2))).toEqual(expected);
    expect((await rm.roles.visibleAt('a1111')).find((r) => r.id === roleAt(2))).toEqual(expected);
    expect(await rm.roles.catalogPosition()).toBe(update.position);
  });

  it('forgets a deleted role everywhere', async () => {
    const deleted = log.roleDeleted('role_a0', 'a');
    await rm.apply([deleted]);
    expect(await rm.roles.get('role_a0')).toBeUndefined();
    expect(ids(await rm.roles.visibleAt('a11'))).toEqual(expectedAt(3).filter((id) => id !== 'role_a0'));
    expect(ids(await rm.roles.all())).not.toContain('role_a0');
    expect(await rm.roles.catalogPosition()).toBe(deleted.position);
  });

  it('moves with the organization: a subtree moved elsewhere sees its new ancestors', async () => {
    await rm.apply([log.moved('a1', 'a', 'b')]);
    expect(ids(await rm.roles.visibleAt('a11'))).toEqual([roleAt(0), 'role_b', roleAt(2), roleAt(3)]);
    expect(ids(await rm.roles.visibleAt('a'))).toEqual(expectedAt(1));
    expect(await names('a11')).toEqual(['r billing:invoices:approve', 'a11 reports:export']);
  });

  it('moves the catalog position with role events only', async () => {
    const lastRole = [...setup].reverse().find((e) => e.type.startsWith('Role'))!;
    expect(await rm.roles.catalogPosition()).toBe(lastRole.position);
    await rm.apply([
      log.permission('ApplicationPermissionDefined', 'b', 'shop:orders:read'),
      log.created('b2', 'Beta two', 'b'),
    ]);
    expect(await rm.roles.catalogPosition()).toBe(lastRole.position);
  });

  it('starts with no definitions and catalog position 0', async () => {
    await rm.reset();
    expect(await rm.roles.all()).toEqual([]);
    expect(await rm.roles.catalogPosition()).toBe(0);
    expect(await rm.roles.permissionsVisibleAt('a')).toEqual([]);
  });

  it('holds application permissions: on an organization itself, visible below it, by name across trees', async () => {
    const defined = setup.find((e) => e.streamId === 'permission-a-audit:read')!;
    expect(await rm.roles.permission('a', 'audit:read')).toEqual({
      name: 'audit:read',
      orgId: 'a',
      description: 'About audit:read',
      createdAt: defined.occurredAt,
      updatedAt: defined.occurredAt,
      version: 1,
    });
    expect(await rm.roles.permission('a1', 'audit:read')).toBeUndefined();
    expect(await rm.roles.permission('a', 'billing:invoices:approve')).toBeUndefined();
    expect(await names('r')).toEqual(['r billing:invoices:approve']);
    expect(await names('a1111')).toEqual([
      'r billing:invoices:approve',
      'a audit:read',
      'a billing:invoices:read',
      'a11 reports:export',
    ]);
    expect(await names('b1')).toEqual(['r billing:invoices:approve']);
    expect(await names('o')).toEqual(['o billing:invoices:approve']);
    expect(await rm.roles.permissionsVisibleAt('missing')).toEqual([]);
    expect((await rm.roles.permissionsNamed('billing:invoices:approve')).map((p) => p.orgId)).toEqual(['o', 'r']);
    expect(await rm.roles.permissionsNamed('nothing:here')).toEqual([]);
  });

  it('updates and deletes application permissions', async () => {
    const update = log.permission('ApplicationPermissionUpdated', 'a', 'audit:read', 'Reads the trail');
    await rm.apply([update]);
    expect(await rm.roles.permission('a', 'audit:read')).toMatchObject({
      description: 'Reads the trail',
      updatedAt: update.occurredAt,
      version: 2,
    });
    expect((await rm.roles.permission('a', 'audit:read'))!.createdAt).not.toBe(update.occurredAt);
    await rm.apply([log.permissionDeleted('a', 'audit:read')]);
    expect(await rm.roles.permission('a', 'audit:read')).toBeUndefined();
    expect(await names('a1')).toEqual(['r billing:invoices:approve', 'a billing:invoices:read']);
  });

  it('drops the definitions of a deleted organization (a backstop: the domain ends them first)', async () => {
    await rm.apply([log.deleted('o', null)]);
    expect(await rm.roles.get('role_o')).toBeUndefined();
    expect((await rm.roles.permissionsNamed('billing:invoices:approve')).map((p) => p.orgId)).toEqual(['r']);
  });

  it('answers the same after a rebuild from the log, and applying an event twice changes nothing', async () => {
    const more = [
      log.role('RoleUpdated', 'role_b', 'b', ['orgs:read', 'users:read'], { name: 'Beta reader' }),
      log.roleDeleted(roleAt(4), 'a111'),
      log.moved('a11', 'a1', 'b1'),
      log.permission('ApplicationPermissionUpdated', 'a11', 'reports:export', 'Exports'),
      log.permissionDeleted('a', 'billing:invoices:read'),
    ];
    await rm.apply(more);
    const answers = async () => ({
      all: await rm.roles.all(),
      visible: await Promise.all([...CHAIN, 'b1', 'o'].map((id) => rm.roles.visibleAt(id))),
      permissions: await Promise.all([...CHAIN, 'b1', 'o'].map((id) => rm.roles.permissionsVisibleAt(id))),
      position: await rm.roles.catalogPosition(),
    });
    const before = await answers();
    expect(before.position).toBe(more[1].position);
    await rm.apply([...setup, ...more]);
    expect(await answers()).toEqual(before);
    await rm.reset();
    await rm.apply([...setup, ...more]);
    expect(await answers()).toEqual(before);
  });
}
