import type { Permission } from './permissions';

/**
 * A role's id: the string a membership stores, in `UserAddedToOrg`/`OrgUserUpdated` events and in the read
 * models. Built-in roles have the ids the log has always carried (`member`, `admin`, `owner`), so existing
 * logs replay unchanged. Which ids are valid is a question for a RoleCatalog, not for the type.
 */
export type RoleId = string;

/**
 * Where a grant reaches: `subtree`, the organization the role is held on and every organization below it
 * (all built-in roles); `organization`, that organization only.
 */
export type RoleReach = 'subtree' | 'organization';

/** A role as data (contract section 4): what holding it on an organization grants, and where. */
export interface RoleDefinition {
  /** Stable; stored in events. */
  readonly id: RoleId;
  /** For people; may change without touching any membership. */
  readonly name: string;
  readonly description: string;
  /** What it grants, in the canonical order of PERMISSIONS, without duplicates. */
  readonly permissions: readonly Permission[];
  readonly appliesTo: RoleReach;
  /** The organization that defines it (its subtree may use it); `null` for a built-in role. */
  readonly orgId: string | null;
}

/**
 * The built-in roles, weakest first (the canonical order of role lists). Contract section 4's table.
 * `as const` keeps the ids literal, so tests and fixtures can still name them as a type (BuiltInRoleId).
 */
export const BUILT_IN_ROLES = [
  {
    id: 'member',
    name: 'Member',
    description: 'Sees the organization, its subtree and their members.',
    permissions: ['orgs:read', 'users:read', 'roles:read'],
    appliesTo: 'subtree',
    orgId: null,
  },
  {
    id: 'admin',
    name: 'Admin',
    description: 'Manages the subtree: organizations, members (except owners) and client credentials.',
    permissions: [
      'orgs:read',
      'orgs:write',
      'users:read',
      'users:write',
      'clients:read',
      'clients:write',
      'roles:read',
      'roles:write',
      'access:evaluate',
    ],
    appliesTo: 'subtree',
    orgId: null,
  },
  {
    id: 'owner',
    name: 'Owner',
    description: 'Everything an admin may do, and deletes organizations and grants or takes away the owner role.',
    permissions: [
      'orgs:read',
      'orgs:write',
      'orgs:delete',
      'users:read',
      'users:write',
      'clients:read',
      'clients:write',
      'roles:read',
      'roles:write',
      'access:evaluate',
    ],
    appliesTo: 'subtree',
    orgId: null,
  },
] as const satisfies readonly RoleDefinition[];

/** `member`, `admin` or `owner`. */
export type BuiltInRoleId = (typeof BUILT_IN_ROLES)[number]['id'];

/** The built-in ids, weakest first. */
export const BUILT_IN_ROLE_IDS: readonly BuiltInRoleId[] = BUILT_IN_ROLES.map((r) => r.id);

/** @deprecated Use BUILT_IN_ROLE_IDS (or a RoleCatalog, which knows every role usable somewhere). */
export const ROLES = BUILT_IN_ROLE_IDS;

/**
 * The role definitions the model knows. Lookups are synchronous: the command model holds its state in
 * memory, and the built-in catalog is a constant.
 */
export interface RoleCatalog {
  /**
   * The definitions a membership of `orgId` may hold: the built-in ones, and (once organizations define
   * roles) those defined on `orgId` or above it. Built-ins first, in canonical order, then root first.
   * `ancestorIds`: `orgId`'s ancestors, root first, when the caller has them; a catalog that holds no tree (the
   * gateway's, over the read models) needs them, one that holds the tree (the command model's) ignores them.
   */
  visibleAt(orgId: string, ancestorIds?: readonly string[]): readonly RoleDefinition[];
  /** The definition of a stored role id (ids are unique across organizations); undefined when unknown. */
  get(roleId: RoleId): RoleDefinition | undefined;
  /**
   * Brings a catalog that copies its definitions from elsewhere (the gateway's, from the read models) at least
   * up to the read models' current position; callers await it before a decision that reads custom roles.
   * Absent on catalogs that are always current (the built-in one, the command model's RoleIndex).
   */
  refresh?(): Promise<void>;
}

const BUILT_IN_BY_ID: ReadonlyMap<RoleId, RoleDefinition> = new Map(BUILT_IN_ROLES.map((r) => [r.id, r]));

/** The catalog of today: the built-in roles, visible everywhere. */
export const BUILT_IN_ROLE_CATALOG: RoleCatalog = {
  visibleAt: () => BUILT_IN_ROLES,
  get: (roleId) => BUILT_IN_BY_ID.get(roleId),
};

/** Whether `s` is a built-in role id. Validation of a membership's roles asks a RoleCatalog instead. */
export const isRole = (s: unknown): s is BuiltInRoleId => typeof s === 'string' && BUILT_IN_BY_ID.has(s);

/**
 * The owner rule (contract section 4) over definitions: a role that grants `orgs:delete` may be granted or
 * taken away only by a caller holding `orgs:delete` there. Of the built-ins that is `owner`, as always.
 * Derived from the permissions rather than a flag of its own so that no definition can grant `orgs:delete`
 * while being handed out by admins: the guard follows what the role grants, and cannot drift from it.
 */
export const isOwnerLevel = (role: RoleDefinition): boolean => role.permissions.includes('orgs:delete');

/** Every permission the roles grant (unknown ids grant nothing), wherever each applies. */
export function permissionsOfRoles(
  roles: Iterable<RoleId>,
  catalog: RoleCatalog = BUILT_IN_ROLE_CATALOG,
): Set<Permission> {
  const out = new Set<Permission>();
  for (const role of roles) for (const p of catalog.get(role)?.permissions ?? []) out.add(p);
  return out;
}

/**
 * Roles in canonical order without duplicates, so that equal sets compare equal: built-in ids weakest first,
 * then any others by id (code unit order).
 */
export function normaliseRoles(roles: Iterable<RoleId>): RoleId[] {
  const set = new Set(roles);
  const out: RoleId[] = BUILT_IN_ROLE_IDS.filter((r) => set.has(r));
  if (out.length < set.size) out.push(...[...set].filter((r) => !BUILT_IN_BY_ID.has(r)).sort());
  return out;
}

/** The roles in one list and not the other: what a change from `before` to `after` grants or takes away. */
export function changedRoles(before: readonly RoleId[], after: readonly RoleId[]): RoleId[] {
  return [...before.filter((r) => !after.includes(r)), ...after.filter((r) => !before.includes(r))];
}
