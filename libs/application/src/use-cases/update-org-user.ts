import { Type, type Static } from '@sinclair/typebox';
import { IamError, decideUpdateOrgUser } from '@arbor/domain';
import { prepareRename, reconcileRename } from './rename';
import {
  IdInput,
  PreconditionFailedInput,
  VersionInput,
  commandType,
  defineUseCase,
  ownerChange,
  renameOf,
  rolesIn,
} from './use-case';

/** UpdateOrgUser: a member's roles in one organization and/or their name. */
export const UpdateOrgUserInput = Type.Object({
  type: commandType('UpdateOrgUser'),
  orgId: IdInput,
  userId: IdInput,
  roles: Type.Optional(Type.Unknown()),
  name: Type.Optional(Type.Unknown()),
  expectedVersion: VersionInput,
  expectedUserVersion: VersionInput,
  preconditionFailed: PreconditionFailedInput,
});
export type UpdateOrgUserInput = Static<typeof UpdateOrgUserInput>;

/**
 * `users:write` on the organization; the user a direct member (pending: seen only by platform admins);
 * granting or taking `owner` needs an owner (the owner rule); a new name needs the right to edit the profile.
 */
export const updateOrgUser = defineUseCase({
  type: 'UpdateOrgUser',
  input: UpdateOrgUserInput,
  authorize: async (policy, principal, c) => {
    await policy.requireOnOrg(principal, 'users:write', c.orgId);
    const current = await policy.facts.directRoles(c.orgId, c.userId);
    // A pending membership is nobody's to see but its account's and platform admins'.
    const hidden = (await policy.facts.isPendingMember(c.orgId, c.userId)) && !policy.isPlatformAdmin(principal);
    if (!current || hidden)
      throw new IamError('IAM_ERR_NOT_FOUND', `User ${c.userId} is not a direct member of ${c.orgId}.`);
    if (c.roles !== undefined) await policy.requireMayGrant(principal, c.orgId, ownerChange(current, rolesIn(c.roles)));
    if (c.name !== undefined) await policy.requireMayEditProfile(principal, c.userId);
  },
  prepare: (c, deps) => prepareRename(c.userId, c.name, deps),
  reconcile: (state, c, prepared, env) => reconcileRename(state, c.userId, prepared, env),
  decide: (state, c, prepared) => ({
    events: decideUpdateOrgUser(state, {
      orgId: c.orgId,
      userId: c.userId,
      roles: c.roles,
      rename: renameOf(prepared),
      expectedVersion: c.expectedVersion,
      expectedUserVersion: c.expectedUserVersion,
    }),
  }),
});
