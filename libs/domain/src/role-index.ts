import { BUILT_IN_ROLES, BUILT_IN_ROLE_CATALOG, type RoleCatalog, type RoleDefinition, type RoleId } from './roles';

/** An application permission as defined on one organization (issue 13; contract section 4.1). */
export interface ApplicationPermissionDefinition {
  /** E.g. `billing:invoices:approve` (see applicationPermissionNameProblem). Unique within its tree. */
  readonly name: string;
  readonly description: string;
  /** The defining organization: the permission is visible there and in its subtree. */
  readonly orgId: string;
}

/**
 * The live RoleCatalog (the seam roles.ts left for custom roles): the built-in roles plus every custom role
 * definition, and the application permissions, in memory, synchronously, so that the command model decides
 * over it inside its write transaction. Visibility follows the tree: `ancestorsOf(orgId)` gives the
 * organization's ancestors, root first (OrgTree.ancestors), so a definition is visible at its own organization
 * and everything below. Invariant: ids are unique across organizations, so `get` needs no organization.
 * The index holds no secret and is rebuilt from the role and permission events (the callers apply them).
 */
export class RoleIndex implements RoleCatalog {
  private readonly roles = new Map<RoleId, RoleDefinition>();
  private readonly rolesByOrg = new Map<string, Set<RoleId>>();
  private readonly permissions = new Map<string, ApplicationPermissionDefinition>();
  private readonly permissionsByOrg = new Map<string, Set<string>>();

  constructor(private readonly ancestorsOf: (orgId: string) => readonly string[]) {}

  /** Built-ins first (canonical order), then the definitions of the root, ..., of `orgId` itself, by id. */
  visibleAt(orgId: string): readonly RoleDefinition[] {
    const out: RoleDefinition[] = [...BUILT_IN_ROLES];
    for (const id of [...this.ancestorsOf(orgId), orgId])
      for (const roleId of [...(this.rolesByOrg.get(id) ?? [])].sort()) out.push(this.roles.get(roleId)!);
    return out;
  }

  get(roleId: RoleId): RoleDefinition | undefined {
    return BUILT_IN_ROLE_CATALOG.get(roleId) ?? this.roles.get(roleId);
  }

  /** Whether `roleId` may be held at `orgId`: built in, or defined there or above. */
  isVisibleAt(roleId: RoleId, orgId: string): boolean {
    const role = this.get(roleId);
    if (!role) return false;
    return role.orgId === null || role.orgId === orgId || this.ancestorsOf(orgId).includes(role.orgId);
  }

  /** The application permissions visible at `orgId`: defined there or above, root's first, then by name. */
  permissionsVisibleAt(orgId: string): ApplicationPermissionDefinition[] {
    const out: ApplicationPermissionDefinition[] = [];
    for (const id of [...this.ancestorsOf(orgId), orgId])
      for (const name of [...(this.permissionsByOrg.get(id) ?? [])].sort()) out.push(this.permissions.get(name)!);
    return out;
  }

  /** The application permission named `name`, wherever defined (names are unique within a tree). */
  permission(name: string): ApplicationPermissionDefinition | undefined {
    return this.permissions.get(name);
  }

  /** The custom roles (not built-ins) that grant the application permission `name`: what blocks its delete. */
  rolesGranting(name: string): RoleDefinition[] {
    return [...this.roles.values()].filter((r) => (r.permissions as readonly string[]).includes(name));
  }

  /** Defines or replaces a custom role (RoleDefined / RoleUpdated). The defining organization never changes. */
  putRole(role: RoleDefinition): void {
    this.roles.set(role.id, role);
    let set = this.rolesByOrg.get(role.orgId!);
    if (!set) this.rolesByOrg.set(role.orgId!, (set = new Set()));
    set.add(role.id);
  }

  deleteRole(roleId: RoleId): void {
    const role = this.roles.get(roleId);
    if (!role) return;
    this.roles.delete(roleId);
    this.rolesByOrg.get(role.orgId!)?.delete(roleId);
  }

  putPermission(permission: ApplicationPermissionDefinition): void {
    this.permissions.set(permission.name, permission);
    let set = this.permissionsByOrg.get(permission.orgId);
    if (!set) this.permissionsByOrg.set(permission.orgId, (set = new Set()));
    set.add(permission.name);
  }

  deletePermission(name: string): void {
    const permission = this.permissions.get(name);
    if (!permission) return;
    this.permissions.delete(name);
    this.permissionsByOrg.get(permission.orgId)?.delete(name);
  }
}
