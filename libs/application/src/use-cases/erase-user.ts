import { Type, type Static } from '@sinclair/typebox';
import { decideEraseUser } from '@arbor/domain';
import { IdInput, PreconditionFailedInput, VersionInput, commandType, defineUseCase } from './use-case';

/** EraseUser (contract section 6): a user's personal data destroyed for good, their memberships and sessions ended. */
export const EraseUserInput = Type.Object({
  type: commandType('EraseUser'),
  userId: IdInput,
  expectedVersion: VersionInput,
  preconditionFailed: PreconditionFailedInput,
});
export type EraseUserInput = Static<typeof EraseUserInput>;

/**
 * Platform admins with `users:write`. The events end the memberships and mark the user erased (decideEraseUser);
 * the command service destroys the user's data key and password hash once they are committed (CommandService's
 * after-commit step: a rollback must not lose them), so every sealed copy of the email and name reads as erased.
 */
export const eraseUser = defineUseCase({
  type: 'EraseUser',
  input: EraseUserInput,
  authorize: async (policy, principal) => {
    policy.requirePlatform(principal, 'users:write');
  },
  decide: (state, c) => ({
    events: decideEraseUser(state, { userId: c.userId, expectedVersion: c.expectedVersion }),
  }),
});
