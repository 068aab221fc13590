import { BUILT_IN_ROLES, IamError, PERMISSION_DEFINITIONS } from '@arbor/domain';
import type { ApplicationPermissionView, Principal, RoleView } from '@arbor/application';
import { representationTag, type HandlerResult } from '@arbor/http';
import type { ApiContext } from './api-context';

/**
 * How `/api/v1/orgs/{orgId}/roles` and `/permissions` present definitions (contract section 4.1), and which
 * ones an organization's paths address. A representation depends on the organization in the path (`inherited`),
 * so its ETag is that of the representation at that path.
 */

/** Where a definition comes from, seen from `atOrgId`. */
const provenance = (
  definedOn: string,
  atOrgId: string,
  view: { createdAt: string; updatedAt: string; version: number },
) => ({
  builtIn: false,
  definedOn,
  inherited: definedOn !== atOrgId,
  createdAt: view.createdAt,
  updatedAt: view.updatedAt,
  version: view.version,
});

const BUILT_IN_PROVENANCE = {
  builtIn: true,
  definedOn: null,
  inherited: true,
  createdAt: null,
  updatedAt: null,
  version: null,
} as const;

/** A custom role as the API sends it at `atOrgId` (contract section 4.1's `Role`). */
export const presentRole = (role: RoleView, atOrgId: string) => ({
  id: role.id,
  name: role.name,
  description: role.description,
  permissions: [...role.permissions],
  appliesTo: role.appliesTo,
  ...provenance(role.orgId, atOrgId, role),
});

/** The built-in roles, as every organization's list shows them first. */
export const builtInRoles = () =>
  BUILT_IN_ROLES.map((r) => ({
    id: r.id,
    name: r.name,
    description: r.description,
    permissions: [...r.permissions],
    appliesTo: r.appliesTo,
    ...BUILT_IN_PROVENANCE,
  }));

/** An application permission as the API sends it at `atOrgId`. */
export const presentPermission = (permission: ApplicationPermissionView, atOrgId: string) => ({
  name: permission.name,
  description: permission.description,
  ...provenance(permission.orgId, atOrgId, permission),
});

/** The built-in permissions (contract section 4's table), as every organization's list shows them first. */
export const builtInPermissions = () =>
  PERMISSION_DEFINITIONS.map((p) => ({ name: p.id, description: p.description, ...BUILT_IN_PROVENANCE }));

/** A 200 (or `status`) with the representation and its strong ETag. */
export const definitionResult = (
  version: number,
  body: object,
  status = 200,
  extra: Record<string, string> = {},
): HandlerResult => ({ status, body, headers: { ETag: representationTag(version, body), ...extra } });

/**
 * The organization `orgId` as a path of these routes may address it: it exists and the caller holds anything
 * at all there (404 otherwise, as if it did not exist). Writes stop here: whether the caller may make the
 * change (roles:write on the defining organization, holding what the role grants) is the command side's.
 */
export async function requireSeesOrg(ctx: ApiContext, principal: Principal, orgId: string): Promise<void> {
  const hidden = new IamError('IAM_ERR_NOT_FOUND', `Organization ${orgId} does not exist.`);
  if (!(await ctx.readModels.orgs.get(orgId))) throw hidden;
  if ((await ctx.policy.permissionsOn(principal, orgId)).size === 0) throw hidden;
}

/**
 * A write through `orgId`'s path to a definition made on `definedOn`, an ancestor: the caller sees the definition
 * (it is visible at `orgId`), so a caller who cannot see the defining organization is refused with 403 naming it,
 * not with the command side's 404 for that organization (which would deny what the caller has just read).
 */
export async function requireReachesDefiningOrg(
  ctx: ApiContext,
  principal: Principal,
  orgId: string,
  definedOn: string,
): Promise<void> {
  if (definedOn === orgId || (await ctx.policy.permissionsOn(principal, definedOn)).size > 0) return;
  throw new IamError(
    'IAM_ERR_FORBIDDEN',
    `This definition is inherited from organization ${definedOn}: it changes there, with roles:write on it.`,
  );
}

/**
 * The custom role `roleId` as `/orgs/{orgId}/roles/{roleId}` addresses it: visible at `orgId` (defined there or
 * on an ancestor); 404 otherwise, and for a built-in id (built-in roles are listed, not resources). The same
 * role is the same resource under every organization where it is visible.
 */
export async function roleVisibleAt(ctx: ApiContext, orgId: string, roleId: string): Promise<RoleView | undefined> {
  const role = await ctx.readModels.roles.get(roleId);
  if (!role) return undefined;
  return role.orgId === orgId || (await ctx.policy.isWithin(orgId, role.orgId)) ? role : undefined;
}

/** The application permission `name` visible at `orgId` (a name is unique within its tree: at most one). */
export async function permissionVisibleAt(
  ctx: ApiContext,
  orgId: string,
  name: string,
): Promise<ApplicationPermissionView | undefined> {
  return (
    (await ctx.readModels.roles.permission(orgId, name)) ??
    (await ctx.readModels.roles.permissionsVisibleAt(orgId)).find((p) => p.name === name)
  );
}

export const roleNotFound = (roleId: string) => new IamError('IAM_ERR_NOT_FOUND', `Role ${roleId} does not exist.`);
export const permissionNotFound = (name: string) =>
  new IamError('IAM_ERR_NOT_FOUND', `Permission ${name} does not exist.`);
