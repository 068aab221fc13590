import { Type, type Static } from '@sinclair/typebox';
import { IamError, decidePasswordChange } from '@arbor/domain';
import { prepareSetPassword } from '../commands/password-preparation';
import { IdInput, commandType, defineUseCase } from './use-case';

/** SetUserPassword: a platform admin, or the operator as `system` (`arbor reset-admin-password`), sets a user's password; ends every session of the user. */
export const SetUserPasswordInput = Type.Object({
  type: commandType('SetUserPassword'),
  userId: IdInput,
  password: Type.Unknown(),
});
export type SetUserPasswordInput = Static<typeof SetUserPasswordInput>;

/** Platform admins (`users:write` on the platform); to anyone else 404 if they may not see the user, else 403. */
export const setUserPassword = defineUseCase({
  type: 'SetUserPassword',
  input: SetUserPasswordInput,
  authorize: async (policy, principal, c) => {
    if (policy.isPlatformAdmin(principal)) return policy.requirePlatform(principal, 'users:write');
    // Whoever may not see the user learns nothing about them; whoever may, learns this is not theirs to do.
    await policy.requireMaySeeUser(principal, c.userId);
    throw new IamError('IAM_ERR_FORBIDDEN', "Only a platform admin sets another user's password.");
  },
  prepare: (c, deps) => prepareSetPassword(c, deps),
  decide: (state, c, prepared) => {
    if (prepared.passwordHash === undefined) throw new Error('SetUserPassword was not prepared');
    return {
      events: decidePasswordChange(state, { userId: c.userId, by: 'admin' }),
      secrets: [{ kind: 'passwordHash', userId: c.userId, hash: prepared.passwordHash }],
    };
  },
});
