import { Type, type Static } from '@sinclair/typebox';
import { IamError, decidePasswordChange } from '@arbor/domain';
import { openCurrent } from '../commands/command-preparation';
import { prepareOwnPasswordChange } from '../commands/password-preparation';
import { IdInput, commandType, defineUseCase } from './use-case';

/**
 * ChangeOwnPassword: the calling user changes their own password, proving the current one (checked in
 * preparation, throttled like a login). `source`: the caller's address as the gateway saw it (`req.ip`), the
 * source the login throttle counts. Ends the user's other sessions (the caller's own, its `sid`, survives).
 */
export const ChangeOwnPasswordInput = Type.Object({
  type: commandType('ChangeOwnPassword'),
  userId: IdInput,
  currentPassword: Type.Unknown(),
  newPassword: Type.Unknown(),
  source: Type.Optional(Type.String()),
});
export type ChangeOwnPasswordInput = Static<typeof ChangeOwnPasswordInput>;

/** Users only (anything else: 404, it has no password), and only their own (403). */
export const changeOwnPassword = defineUseCase({
  type: 'ChangeOwnPassword',
  input: ChangeOwnPasswordInput,
  authorize: async (_policy, principal, c) => {
    if (principal.type !== 'user') throw new IamError('IAM_ERR_NOT_FOUND', 'The caller is not a user.');
    if (principal.id !== c.userId)
      throw new IamError('IAM_ERR_FORBIDDEN', 'Users change only their own password this way.');
  },
  prepare: (c, deps) =>
    prepareOwnPasswordChange(c, {
      ...deps,
      personalOf: async (userId) => {
        const user = deps.users.get(userId);
        return user ? openCurrent(user, deps) : null;
      },
    }),
  // The session that changes its user's password survives it: the one named by the verified token, never by the command.
  reconcile: async (_state, _c, prepared, env) =>
    env.principal === 'system' ? prepared : { ...prepared, keptSessionId: env.principal.sessionId },
  decide: (state, c, prepared) => {
    if (prepared.passwordHash === undefined) throw new Error('ChangeOwnPassword was not prepared');
    // The one vault write that replaces a row: the user's hash, right before the event that records it (a
    // failure between the two leaves the new password set without its event; see contract section 6).
    return {
      events: decidePasswordChange(state, { userId: c.userId, by: 'self', keptSessionId: prepared.keptSessionId }),
      secrets: [{ kind: 'passwordHash', userId: c.userId, hash: prepared.passwordHash }],
    };
  },
});
