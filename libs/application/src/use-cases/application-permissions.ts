import { Type, type Static } from '@sinclair/typebox';
import {
  decideDefinePermission,
  decideDeletePermission,
  decideUpdatePermission,
  type IdentityState,
  type RoleState,
} from '@arbor/domain';
import { IdInput, PreconditionFailedInput, VersionInput, commandType, defineUseCase } from './use-case';

/**
 * Application permissions (issue 13, contract section 4.1): defined on one organization
 * (`POST /api/v1/orgs/{orgId}/permissions`), visible there and below. Every change needs `roles:write` on the
 * defining organization; the name is the resource's key (it never changes).
 */
export const DefinePermissionInput = Type.Object({
  type: commandType('DefinePermission'),
  orgId: IdInput,
  name: Type.Unknown(),
  description: Type.Optional(Type.Unknown()),
});
export type DefinePermissionInput = Static<typeof DefinePermissionInput>;

export const UpdatePermissionInput = Type.Object({
  type: commandType('UpdatePermission'),
  orgId: IdInput,
  name: Type.String(),
  description: Type.Unknown(),
  expectedVersion: VersionInput,
  preconditionFailed: PreconditionFailedInput,
});
export type UpdatePermissionInput = Static<typeof UpdatePermissionInput>;

export const DeletePermissionInput = Type.Object({
  type: commandType('DeletePermission'),
  orgId: IdInput,
  name: Type.String(),
  expectedVersion: VersionInput,
  preconditionFailed: PreconditionFailedInput,
});
export type DeletePermissionInput = Static<typeof DeletePermissionInput>;

/** The command model's state always carries its RoleIndex (CommandModel); the deciders need it typed so. */
export const withRoles = (state: IdentityState): RoleState => {
  if (!state.roles || !('permissionsVisibleAt' in state.roles)) throw new Error('the command model holds no RoleIndex');
  return state as RoleState;
};

export const defineApplicationPermission = defineUseCase({
  type: 'DefinePermission',
  input: DefinePermissionInput,
  authorize: async (policy, principal, c) => {
    await policy.requireOnOrg(principal, 'roles:write', c.orgId);
  },
  decide: (state, c) => ({ events: decideDefinePermission(withRoles(state), c) }),
});

export const updateApplicationPermission = defineUseCase({
  type: 'UpdatePermission',
  input: UpdatePermissionInput,
  authorize: async (policy, principal, c) => {
    await policy.requireOnOrg(principal, 'roles:write', c.orgId);
  },
  decide: (state, c) => ({ events: decideUpdatePermission(withRoles(state), c) }),
});

export const deleteApplicationPermission = defineUseCase({
  type: 'DeletePermission',
  input: DeletePermissionInput,
  authorize: async (policy, principal, c) => {
    await policy.requireOnOrg(principal, 'roles:write', c.orgId);
  },
  decide: (state, c) => ({ events: decideDeletePermission(withRoles(state), c) }),
});
