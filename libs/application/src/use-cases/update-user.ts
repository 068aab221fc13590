import { Type, type Static } from '@sinclair/typebox';
import { decideRenameUser, decideSetUserStatus } from '@arbor/domain';
import { prepareRename, reconcileRename } from './rename';
import { IdInput, PreconditionFailedInput, VersionInput, commandType, defineUseCase, renameOf } from './use-case';

/** UpdateUser: a user's own record: their profile (name) and, for platform admins, their status (disable/enable). */
export const UpdateUserInput = Type.Object({
  type: commandType('UpdateUser'),
  userId: IdInput,
  name: Type.Optional(Type.Unknown()),
  status: Type.Optional(Type.Union([Type.Literal('active'), Type.Literal('disabled')])),
  expectedVersion: VersionInput,
  preconditionFailed: PreconditionFailedInput,
});
export type UpdateUserInput = Static<typeof UpdateUserInput>;

/** A status change needs `users:write` on the platform; a new name the right to edit the profile. */
export const updateUser = defineUseCase({
  type: 'UpdateUser',
  input: UpdateUserInput,
  authorize: async (policy, principal, c) => {
    if (c.status !== undefined) policy.requirePlatform(principal, 'users:write');
    if (c.name !== undefined) await policy.requireMayEditProfile(principal, c.userId);
  },
  prepare: (c, deps) => prepareRename(c.userId, c.name, deps),
  reconcile: (state, c, prepared, env) => reconcileRename(state, c.userId, prepared, env),
  decide: (state, c, prepared) => {
    // Both parts are checked against the version the caller saw, before either changes it.
    const events = decideRenameUser(state, {
      userId: c.userId,
      rename: renameOf(prepared),
      expectedVersion: c.expectedVersion,
    });
    if (c.status === undefined) return { events };
    return {
      events: [
        ...events,
        ...decideSetUserStatus(state, { userId: c.userId, status: c.status, expectedVersion: c.expectedVersion }),
      ],
    };
  },
});
