import { isKnownEvent, type StoredEvent } from './events';
import { BUILT_IN_ROLES, BUILT_IN_ROLE_CATALOG, type RoleCatalog, type RoleDefinition, type RoleId } from './roles';

/** An application permission as defined on one organization (issue 13; contract section 4.1). */
export interface ApplicationPermissionDefinition {
  /** E.g. `billing:invoices:approve` (see applicationPermissionNameProblem). Unique within its tree. */
  readonly name: string;
  readonly description: string;
  /** The defining organization: the permission is visible there and in its subtree. */
  readonly orgId: string;
}

/** A RoleIndex's custom definitions as plain data (the command-model snapshot holds it). */
export interface RoleIndexSnapshot {
  roles: RoleDefinition[];
  permissions: ApplicationPermissionDefinition[];
  versions: Array<[string, number]>;
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
  /** Keyed by `<orgId> <name>`: a name is unique within a tree, not across trees. */
  private readonly permissions = new Map<string, ApplicationPermissionDefinition>();
  private readonly permissionsByOrg = new Map<string, Set<string>>();

  /** The version of every live role (`role-<id>`) and permission (`permission-<orgId>-<name>`) stream. */
  private readonly versions = new Map<string, number>();

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
      for (const name of [...(this.permissionsByOrg.get(id) ?? [])].sort())
        out.push(this.permissions.get(`${id} ${name}`)!);
    return out;
  }

  /**
   * The application permission named `name` visible at `orgId` (defined there or above; names are unique
   * within a tree, so there is at most one).
   */
  permission(name: string, orgId: string): ApplicationPermissionDefinition | undefined {
    for (const id of [orgId, ...this.ancestorsOf(orgId)]) {
      const found = this.permissions.get(`${id} ${name}`);
      if (found) return found;
    }
    return undefined;
  }

  /** The application permission named `name` defined on `orgId` itself. */
  permissionDefinedOn(name: string, orgId: string): ApplicationPermissionDefinition | undefined {
    return this.permissions.get(`${orgId} ${name}`);
  }

  /** Whether any custom role or application permission is defined on `orgId` itself. */
  hasDefinitionsOn(orgId: string): boolean {
    return (this.rolesByOrg.get(orgId)?.size ?? 0) > 0 || (this.permissionsByOrg.get(orgId)?.size ?? 0) > 0;
  }

  /** The custom roles defined on `orgId` itself, by id. */
  rolesDefinedOn(orgId: string): RoleDefinition[] {
    return [...(this.rolesByOrg.get(orgId) ?? [])].sort().map((id) => this.roles.get(id)!);
  }

  /** The application permissions defined on `orgId` itself, by name. */
  permissionsDefinedOn(orgId: string): ApplicationPermissionDefinition[] {
    return [...(this.permissionsByOrg.get(orgId) ?? [])].sort().map((n) => this.permissions.get(`${orgId} ${n}`)!);
  }

  /**
   * The custom roles (not built-ins) that grant the application permission `name` defined on `definedOn`: what
   * blocks its delete. Only roles that can see it (defined on `definedOn` or below) can grant it.
   */
  rolesGranting(name: string, definedOn?: string): RoleDefinition[] {
    return [...this.roles.values()].filter(
      (r) =>
        (r.permissions as readonly string[]).includes(name) &&
        (definedOn === undefined || r.orgId === definedOn || this.ancestorsOf(r.orgId!).includes(definedOn)),
    );
  }

  /** The application permissions named `name` in every tree (uniqueness within a tree is checked over them). */
  permissionsNamed(name: string): ApplicationPermissionDefinition[] {
    return [...this.permissions.values()].filter((p) => p.name === name);
  }

  /** Every custom role, in no particular order (the move rule walks them). */
  allRoles(): Iterable<RoleDefinition> {
    return this.roles.values();
  }

  /**
   * Folds one event: the role and application-permission events change the index, every other is ignored.
   * Deterministic, so an index restored from a snapshot and fed the later events equals one fed the whole log.
   */
  apply(event: StoredEvent): void {
    if (!isKnownEvent(event)) return;
    if (event.type.startsWith('Role') || event.type.startsWith('ApplicationPermission'))
      if (event.type.endsWith('Deleted')) this.versions.delete(event.streamId);
      else this.versions.set(event.streamId, event.streamVersion);
    switch (event.type) {
      case 'ApplicationPermissionDefined':
      case 'ApplicationPermissionUpdated':
        return this.putPermission({ ...event.data });
      case 'ApplicationPermissionDeleted':
        return this.deletePermission(event.data.name, event.data.orgId);
      case 'RoleDefined':
      case 'RoleUpdated': {
        const d = event.data;
        const role: RoleDefinition = {
          id: d.roleId,
          name: d.name,
          description: d.description,
          permissions: d.permissions as RoleDefinition['permissions'],
          appliesTo: d.appliesTo,
          orgId: d.orgId,
        };
        return this.putRole(role);
      }
      case 'RoleDeleted':
        return this.deleteRole(event.data.roleId);
      default:
        return;
    }
  }

  /** The version of a live definition's stream (`roleStreamId`, `applicationPermissionStreamId`); If-Match compares it. */
  version(streamId: string): number | undefined {
    return this.versions.get(streamId);
  }

  /** Plain data: the custom definitions and their stream versions. */
  toSnapshot(): RoleIndexSnapshot {
    return {
      roles: [...this.roles.values()],
      permissions: [...this.permissions.values()],
      versions: [...this.versions],
    };
  }

  /** An index holding `snapshot`'s definitions, over the tree `ancestorsOf` reads. */
  static fromSnapshot(snapshot: RoleIndexSnapshot, ancestorsOf: (orgId: string) => readonly string[]): RoleIndex {
    const index = new RoleIndex(ancestorsOf);
    for (const r of snapshot.roles) index.putRole(r);
    for (const p of snapshot.permissions) index.putPermission(p);
    for (const [streamId, version] of snapshot.versions) index.versions.set(streamId, version);
    return index;
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
    this.permissions.set(`${permission.orgId} ${permission.name}`, permission);
    let set = this.permissionsByOrg.get(permission.orgId);
    if (!set) this.permissionsByOrg.set(permission.orgId, (set = new Set()));
    set.add(permission.name);
  }

  deletePermission(name: string, orgId: string): void {
    this.permissions.delete(`${orgId} ${name}`);
    this.permissionsByOrg.get(orgId)?.delete(name);
  }
}
