import { Type, type Static } from '@sinclair/typebox';
import { decideConfirmMembership } from '@arbor/domain';
import { IdInput, PreconditionFailedInput, VersionInput, commandType, defineUseCase } from './use-case';

/** ConfirmMembership: a pending membership (an account linked by a caller who could not see it) takes effect. */
export const ConfirmMembershipInput = Type.Object({
  type: commandType('ConfirmMembership'),
  orgId: IdInput,
  userId: IdInput,
  expectedVersion: VersionInput,
  expectedUserVersion: VersionInput,
  preconditionFailed: PreconditionFailedInput,
});
export type ConfirmMembershipInput = Static<typeof ConfirmMembershipInput>;

/** Platform admins only (`users:write` on the platform). */
export const confirmMembership = defineUseCase({
  type: 'ConfirmMembership',
  input: ConfirmMembershipInput,
  authorize: async (policy, principal) => policy.requirePlatform(principal, 'users:write'),
  decide: (state, c) => ({ events: decideConfirmMembership(state, c) }),
});
