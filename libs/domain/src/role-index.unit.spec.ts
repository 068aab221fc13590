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
    index.deletePermission('crm:leads:read');
    expect(index.permission('crm:leads:read')).toBeUndefined();
    expect(index.permissionsVisibleAt('a1').map((p) => p.name)).toEqual(['billing:invoices:approve']);
  });
});
