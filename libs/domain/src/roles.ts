import type { Role } from './events';
import type { Permission } from './permissions';

export const ROLES: readonly Role[] = ['member', 'admin', 'owner'];

export const isRole = (s: unknown): s is Role => typeof s === 'string' && (ROLES as readonly string[]).includes(s);

/** Contract section 4: what each role allows, on its organization and everything below it. */
const GRANTS: Record<Role, readonly Permission[]> = {
  member: ['orgs:read', 'users:read'],
  admin: ['orgs:read', 'users:read', 'orgs:write', 'users:write', 'clients:read', 'clients:write'],
  owner: ['orgs:read', 'users:read', 'orgs:write', 'users:write', 'clients:read', 'clients:write', 'orgs:delete'],
};

export function permissionsOfRoles(roles: Iterable<Role>): Set<Permission> {
  const out = new Set<Permission>();
  for (const role of roles) for (const p of GRANTS[role]) out.add(p);
  return out;
}

/** Roles in canonical order without duplicates, so that equal sets compare equal. */
export function normaliseRoles(roles: Iterable<Role>): Role[] {
  const set = new Set(roles);
  return ROLES.filter((r) => set.has(r));
}
