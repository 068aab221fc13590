import { IamError } from './iam-error';
import {
  applicationPermissionNameProblem,
  danglingAfterMove,
  endGrantsOf,
  holdsApplicationPermission,
  isApplicationPermissionName,
  requireRoleNameFree,
} from './role-rules';
import { BUILT_IN_ROLES, BUILT_IN_ROLE_CATALOG, type RoleDefinition } from './roles';

const codeOf = (f: () => unknown): string => {
  try {
    f();
    return 'no error';
  } catch (e) {
    if (e instanceof IamError) return e.code;
    throw e;
  }
};

const role = (over: Partial<RoleDefinition> & Pick<RoleDefinition, 'id'>): RoleDefinition => ({
  name: over.id,
  description: '',
  permissions: [],
  appliesTo: 'subtree',
  orgId: 'org_a',
  ...over,
});

describe('application permission names', () => {
  it('take 2 to 5 lower-case segments joined by ":"', () => {
    for (const ok of ['billing:invoices:approve', 'a:b', 'x1:y_2:z-3:w:v', `b:${'a'.repeat(40)}`])
      expect(isApplicationPermissionName(ok)).toBe(true);
    for (const bad of [
      'billing',
      'a:b:c:d:e:f',
      'Billing:x',
      'a::b',
      ':a',
      'a:_b',
      'a:-b',
      'a b:c',
      `b:${'a'.repeat(41)}`,
      7,
    ])
      expect(applicationPermissionNameProblem(bad)).toBeDefined();
  });

  it("refuse Arbor's own prefixes as the first segment, and only there", () => {
    for (const p of ['orgs', 'users', 'clients', 'events', 'roles', 'tokens', 'access'])
      expect(applicationPermissionNameProblem(`${p}:thing`)).toMatch(/reserved prefix/);
    expect(isApplicationPermissionName('billing:roles:edit')).toBe(true);
    expect(isApplicationPermissionName('orgsx:read')).toBe(true);
  });
});

describe('role names', () => {
  const defined = [
    ...BUILT_IN_ROLES,
    role({ id: 'role_1', name: 'Approver' }),
    role({ id: 'role_2', name: 'Viewer', orgId: 'org_root' }),
  ];

  it('are unique per defining organization, ignoring case', () => {
    expect(codeOf(() => requireRoleNameFree('APPROVER', 'org_a', defined))).toBe('IAM_ERR_NAME_TAKEN');
    expect(codeOf(() => requireRoleNameFree('approver', 'org_a', defined, 'role_1'))).toBe('no error');
    // A name defined above is no clash: uniqueness is per defining organization.
    expect(codeOf(() => requireRoleNameFree('viewer', 'org_a', defined))).toBe('no error');
  });

  it('reserve the built-in names and ids everywhere', () => {
    for (const name of ['Owner', 'admin', 'MEMBER'])
      expect(codeOf(() => requireRoleNameFree(name, 'org_a', defined))).toBe('IAM_ERR_NAME_TAKEN');
  });
});

describe('who holds an application permission', () => {
  const visible = new Set(['billing:invoices:approve']);
  const approver = role({ id: 'role_1', permissions: ['billing:invoices:approve' as never] });

  it('a role that grants it, or any owner-level role; never one not visible there', () => {
    expect(holdsApplicationPermission([approver], 'billing:invoices:approve', visible)).toBe(true);
    expect(holdsApplicationPermission([BUILT_IN_ROLE_CATALOG.get('owner')!], 'billing:invoices:approve', visible)).toBe(
      true,
    );
    expect(holdsApplicationPermission([BUILT_IN_ROLE_CATALOG.get('admin')!], 'billing:invoices:approve', visible)).toBe(
      false,
    );
    expect(
      holdsApplicationPermission([approver, BUILT_IN_ROLE_CATALOG.get('owner')!], 'billing:other:x', visible),
    ).toBe(false);
  });
});

describe('moves', () => {
  it('are blocked by every use whose definition would no longer be above or inside the subtree', () => {
    const uses = [
      { what: 'role role_1 on membership org_c/usr_1', definedOn: 'org_a' },
      { what: 'role role_2 on membership org_c/usr_2', definedOn: 'org_c' },
      { what: 'permission billing:x in role role_3', definedOn: 'org_root' },
    ];
    expect(danglingAfterMove(uses, new Set(['org_c', 'org_root', 'org_b']))).toEqual([uses[0]]);
    expect(danglingAfterMove(uses, new Set(['org_c', 'org_root', 'org_a']))).toEqual([]);
  });
});

describe('deleting a role', () => {
  it('is refused while granted unless asked to remove the grants', () => {
    expect(codeOf(() => endGrantsOf('role_1', [['member', 'role_1']], false))).toBe('IAM_ERR_DEFINITION_IN_USE');
    expect(endGrantsOf('role_1', [], false)).toEqual([]);
  });

  it('then takes the role off each membership, ending one left with no role', () => {
    expect(endGrantsOf('role_1', [['member', 'role_1'], ['role_1']], true)).toEqual([
      { kind: 'update', roles: ['member'] },
      { kind: 'remove' },
    ]);
  });
});
