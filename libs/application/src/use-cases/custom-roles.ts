import { Type, type Static } from '@sinclair/typebox';
import { IamError, decideDefineRole, decideDeleteRole, decideUpdateRole, grantsOfRole } from '@arbor/domain';
import { withRoles } from './application-permissions';
import { IdInput, PreconditionFailedInput, VersionInput, commandType, defineUseCase } from './use-case';

/**
 * Custom roles (issue 13, contract section 4.1), defined on one organization and usable there and below.
 * Defining or changing one needs `roles:write` on the defining organization AND holding there every permission
 * the role grants (an owner-level role: `orgs:delete` too), so nobody defines what they do not hold.
 */
export const DefineRoleInput = Type.Object({
  type: commandType('DefineRole'),
  roleId: IdInput,
  orgId: IdInput,
  name: Type.Unknown(),
  description: Type.Optional(Type.Unknown()),
  permissions: Type.Unknown(),
  appliesTo: Type.Optional(Type.Unknown()),
});
export type DefineRoleInput = Static<typeof DefineRoleInput>;

export const UpdateRoleInput = Type.Object({
  type: commandType('UpdateRole'),
  roleId: IdInput,
  name: Type.Optional(Type.Unknown()),
  description: Type.Optional(Type.Unknown()),
  permissions: Type.Optional(Type.Unknown()),
  appliesTo: Type.Optional(Type.Unknown()),
  expectedVersion: VersionInput,
  preconditionFailed: PreconditionFailedInput,
});
export type UpdateRoleInput = Static<typeof UpdateRoleInput>;

export const DeleteRoleInput = Type.Object({
  type: commandType('DeleteRole'),
  roleId: IdInput,
  removeGrants: Type.Optional(Type.Boolean()),
  expectedVersion: VersionInput,
  preconditionFailed: PreconditionFailedInput,
});
export type DeleteRoleInput = Static<typeof DeleteRoleInput>;

const permissionsIn = (value: unknown): string[] =>
  Array.isArray(value) ? value.filter((p): p is string => typeof p === 'string') : [];

/** The defining organization of a custom role (404 for an unknown or built-in id: not a resource). */
const definingOrg = (policy: { roles: { get(id: string): { orgId: string | null } | undefined } }, roleId: string) => {
  const orgId = policy.roles.get(roleId)?.orgId;
  if (!orgId) throw new IamError('IAM_ERR_NOT_FOUND', `Role ${roleId} does not exist.`);
  return orgId;
};

export const defineRole = defineUseCase({
  type: 'DefineRole',
  input: DefineRoleInput,
  authorize: async (policy, principal, c) => {
    await policy.requireOnOrg(principal, 'roles:write', c.orgId);
    await policy.requireMayDefine(principal, c.orgId, permissionsIn(c.permissions));
  },
  decide: (state, c) => ({ events: decideDefineRole(withRoles(state), c) }),
});

export const updateRole = defineUseCase({
  type: 'UpdateRole',
  input: UpdateRoleInput,
  authorize: async (policy, principal, c) => {
    const orgId = definingOrg(policy, c.roleId);
    await policy.requireOnOrg(principal, 'roles:write', orgId);
    // The role as it is and as it will be: changing a grant of what one does not hold is refused either way.
    await policy.requireMayDefine(principal, orgId, [
      ...(policy.roles.get(c.roleId)?.permissions ?? []),
      ...permissionsIn(c.permissions),
    ]);
  },
  decide: (state, c) => ({ events: decideUpdateRole(withRoles(state), c) }),
});

export const deleteRole = defineUseCase({
  type: 'DeleteRole',
  input: DeleteRoleInput,
  authorize: async (policy, principal, c) => {
    const orgId = definingOrg(policy, c.roleId);
    await policy.requireOnOrg(principal, 'roles:write', orgId);
    // Ending its grants takes away what it grants: the caller must hold it (as for taking a role away).
    await policy.requireMayDefine(principal, orgId, policy.roles.get(c.roleId)?.permissions ?? []);
  },
  // With removeGrants, the grants end in this command as they would one by one: a membership's needs users:write
  // on its organization, a client credential's clients:write on its own (contract sections 4.1 and 7), on the
  // caught-up model (who holds the role is known only here).
  reconcile: async (state, c, prepared, env) => {
    if (c.removeGrants !== true || env.principal === 'system') return prepared;
    const orgId = env.policy.roles.get(c.roleId)?.orgId;
    if (!orgId) return prepared;
    const grants = grantsOfRole(withRoles(state), c.roleId, orgId);
    for (const grantOrg of new Set(grants.memberships.map((m) => m.orgId)))
      await env.policy.requireOnOrg(env.principal, 'users:write', grantOrg);
    for (const grantOrg of new Set(grants.clients.map((m) => m.orgId)))
      await env.policy.requireOnOrg(env.principal, 'clients:write', grantOrg);
    return prepared;
  },
  decide: (state, c) => ({ events: decideDeleteRole(withRoles(state), c) }),
});
