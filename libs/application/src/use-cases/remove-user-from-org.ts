import { Type, type Static } from '@sinclair/typebox';
import { IamError, decideRemoveUserFromOrg } from '@arbor/domain';
import { IdInput, PreconditionFailedInput, VersionInput, commandType, defineUseCase, ownerChange } from './use-case';

/** RemoveUserFromOrg: ends a direct membership. */
export const RemoveUserFromOrgInput = Type.Object({
  type: commandType('RemoveUserFromOrg'),
  orgId: IdInput,
  userId: IdInput,
  expectedVersion: VersionInput,
  expectedUserVersion: VersionInput,
  preconditionFailed: PreconditionFailedInput,
});
export type RemoveUserFromOrgInput = Static<typeof RemoveUserFromOrgInput>;

/** `users:write` on the organization, the user a direct member, and removing an owner needs an owner. */
export const removeUserFromOrg = defineUseCase({
  type: 'RemoveUserFromOrg',
  input: RemoveUserFromOrgInput,
  authorize: async (policy, principal, c) => {
    await policy.requireOnOrg(principal, 'users:write', c.orgId);
    const current = await policy.facts.directRoles(c.orgId, c.userId);
    if (!current) throw new IamError('IAM_ERR_NOT_FOUND', `User ${c.userId} is not a direct member of ${c.orgId}.`);
    await policy.requireMayGrant(principal, c.orgId, ownerChange(current, []));
  },
  decide: (state, c) => ({ events: decideRemoveUserFromOrg(state, c) }),
});
