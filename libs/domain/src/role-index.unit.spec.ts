import { RoleIndex } from './role-index';
import type { RoleDefinition } from './roles';

/** root ─ a ─ a1 ; root ─ b */
const PARENTS: Record<string, string | null> = { root: null, a: 'root', a1: 'a', b: 'root' };
const ancestorsOf = (id: string): string[] => {
  const out: string[] = [];
  for (let p = PARENTS[id]; p; p = PARENTS[p]) out.unshift(p);
  return out;
};

const role = (id: string, orgId: string, permissions: string[] = []): RoleDefinition => ({
  id,
  name: id,
  description: '',
  permissions: permissions as never,
  appliesTo: 'subtree',
  orgId,
});

describe('the live role catalog', () => {
  it('shows a definition at its organization and below, never beside or above, built-ins first', () => {
    const index = new RoleIndex(ancestorsOf);
    index.putRole(role('role_r', 'root'));
    index.putRole(role('role_a', 'a'));
    expect(index.visibleAt('a1').map((r) => r.id)).toEqual(['member', 'admin', 'owner', 'role_r', 'role_a']);
    expect(index.visibleAt('b').map((r) => r.id)).toEqual(['member', 'admin', 'owner', 'role_r']);
    expect(index.visibleAt('root').map((r) => r.id)).toEqual(['member', 'admin', 'owner', 'role_r']);
    expect(index.isVisibleAt('role_a', 'a1')).toBe(true);
    expect(index.isVisibleAt('role_a', 'b')).toBe(false);
    expect(index.isVisibleAt('owner', 'b')).toBe(true);
    expect(index.get('role_a')?.orgId).toBe('a');
    expect(index.get('admin')?.orgId).toBeNull();
  });

  it('forgets deleted roles and follows updates', () => {
    const index = new RoleIndex(ancestorsOf);
    index.putRole(role('role_a', 'a'));
    index.putRole({ ...role('role_a', 'a'), name: 'Renamed' });
    expect(index.get('role_a')?.name).toBe('Renamed');
    index.deleteRole('role_a');
    expect(index.get('role_a')).toBeUndefined();
    expect(index.visibleAt('a').map((r) => r.id)).toEqual(['member', 'admin', 'owner']);
  });

  it('keeps application permissions visible down their subtree and knows which roles grant them', () => {
    const index = new RoleIndex(ancestorsOf);
    index.putPermission({ name: 'billing:invoices:approve', description: 'Approve', orgId: 'root' });
    index.putPermission({ name: 'crm:leads:read', description: 'Leads', orgId: 'a' });
    expect(index.permissionsVisibleAt('a1').map((p) => p.name)).toEqual(['billing:invoices:approve', 'crm:leads:read']);
    expect(index.permissionsVisibleAt('b').map((p) => p.name)).toEqual(['billing:invoices:approve']);
    index.putRole(role('role_a', 'a', ['orgs:read', 'billing:invoices:approve']));
    expect(index.rolesGranting('billing:invoices:approve').map((r) => r.id)).toEqual(['role_a']);
    expect(index.rolesGranting('crm:leads:read')).toEqual([]);
    index.deletePermission('crm:leads:read', 'a');
    expect(index.permission('crm:leads:read', 'a1')).toBeUndefined();
    expect(index.permissionsVisibleAt('a1').map((p) => p.name)).toEqual(['billing:invoices:approve']);
  });

  it('keeps the same application permission name apart in two trees', () => {
    const index = new RoleIndex(ancestorsOf);
    index.putPermission({ name: 'billing:read', description: 'root', orgId: 'root' });
    index.putPermission({ name: 'billing:read', description: 'other', orgId: 'other' });
    index.deletePermission('billing:read', 'other');
    expect(index.permission('billing:read', 'a1')?.description).toBe('root');
    expect(index.permission('billing:read', 'other')).toBeUndefined();
  });

  it('folds the role and permission events, and a snapshot of it answers alike', () => {
    const index = new RoleIndex(ancestorsOf);
    let position = 0;
    const event = (type: string, data: object) =>
      index.apply({
        id: `e${++position}`,
        type,
        streamId: 's',
        streamVersion: 1,
        position,
        occurredAt: '',
        actor: { type: 'system', id: 'system' },
        data,
        orgPath: [],
      } as never);
    event('ApplicationPermissionDefined', { orgId: 'root', name: 'billing:read', description: 'Read' });
    event('ApplicationPermissionUpdated', { orgId: 'root', name: 'billing:read', description: 'Read bills' });
    const r = {
      roleId: 'role_x',
      orgId: 'a',
      name: 'Biller',
      description: '',
      permissions: ['billing:read'],
      appliesTo: 'organization',
    };
    event('RoleDefined', r);
    event('RoleUpdated', { ...r, name: 'Billing' });
    event('RoleDefined', { ...r, roleId: 'role_y', name: 'Gone' });
    event('RoleDeleted', { roleId: 'role_y', orgId: 'a' });
    expect(index.get('role_x')).toMatchObject({ name: 'Billing', appliesTo: 'organization', orgId: 'a' });
    expect(index.get('role_y')).toBeUndefined();
    expect(index.permission('billing:read', 'a1')?.description).toBe('Read bills');
    const copy = RoleIndex.fromSnapshot(JSON.parse(JSON.stringify(index.toSnapshot())), ancestorsOf);
    expect(copy.visibleAt('a1')).toEqual(index.visibleAt('a1'));
    expect(copy.permissionsVisibleAt('a1')).toEqual(index.permissionsVisibleAt('a1'));
    event('ApplicationPermissionDeleted', { orgId: 'root', name: 'billing:read' });
    expect(index.permissionsVisibleAt('a1')).toEqual([]);
  });
});
