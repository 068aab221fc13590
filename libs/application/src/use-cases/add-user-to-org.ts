import { Type, type Static } from '@sinclair/typebox';
import { FieldChecks, IamError, decideAddUserToOrg } from '@arbor/domain';
import { IdInput, commandType, defineUseCase, rolesIn } from './use-case';

/**
 * AddUserToOrg: an existing user by id (`existingUserId`), or a user by email (`newUser`: created when the
 * email is new, linked when it names an existing account). Email, name, password and roles are checked by
 * preparation and the decider, with field errors.
 */
export const AddUserToOrgInput = Type.Object({
  type: commandType('AddUserToOrg'),
  orgId: IdInput,
  roles: Type.Unknown(),
  existingUserId: Type.Optional(IdInput),
  newUser: Type.Optional(
    Type.Object({
      userId: IdInput,
      email: Type.Unknown(),
      name: Type.Unknown(),
      password: Type.Optional(Type.Unknown()),
    }),
  ),
});
export type AddUserToOrgInput = Static<typeof AddUserToOrgInput>;

/** `users:write` on the organization, the right to grant the roles, and (by id) the right to see the user. */
export const addUserToOrg = defineUseCase({
  type: 'AddUserToOrg',
  input: AddUserToOrgInput,
  authorize: async (policy, principal, c) => {
    await policy.requireOnOrg(principal, 'users:write', c.orgId);
    await policy.requireMayGrant(principal, c.orgId, rolesIn(c.roles));
    // An existing user is named by id only by those who can already see them (by email, see the decider).
    if (c.existingUserId !== undefined) await policy.requireMaySeeUser(principal, c.existingUserId);
  },
  prepare: async (c, deps) => {
    if (!c.newUser) return {};
    const checks = new FieldChecks();
    const email = checks.email('/email', c.newUser.email);
    const name = checks.displayName('/name', c.newUser.name);
    const password = c.newUser.password === undefined ? undefined : checks.password('/password', c.newUser.password);
    checks.done('The user is not valid.');
    // Hashed whether or not the email is known: the answer's timing must not tell which (contract section 6).
    const passwordHash = password === undefined ? undefined : await deps.hasher.hash(password);
    const emailIndex = await deps.emailIndexOf(email);
    const holder = deps.users.idForEmailIndex(emailIndex);
    // An existing user with this email is added as is: their name and password stay theirs. The model
    // learns of an erasure when it folds the user's events; a key destroyed since then frees the email now.
    if (holder !== undefined && (await deps.vault.getDataKey(holder))) return { emailIndex };
    return {
      emailIndex,
      erasedHolder: holder,
      personal: await deps.cipher.seal(c.newUser.userId, { email, name }),
      passwordHash,
    };
  },
  reconcile: async (state, _c, prepared, env) => {
    if (prepared.erasedHolder !== undefined) state.users.markErased(prepared.erasedHolder);
    // An add by email that names an existing account its caller cannot see makes a pending membership.
    const holder = prepared.emailIndex === undefined ? undefined : state.users.idForEmailIndex(prepared.emailIndex);
    const hiddenAccount =
      env.principal !== 'system' && holder !== undefined && !(await env.policy.maySeeUser(env.principal, holder));
    return { ...prepared, hiddenAccount };
  },
  decide: (state, c, prepared) => {
    const newUser =
      c.newUser && prepared.emailIndex !== undefined
        ? { userId: c.newUser.userId, emailIndex: prepared.emailIndex, personal: prepared.personal ?? '' }
        : undefined;
    if (newUser && !prepared.personal && state.users.idForEmailIndex(newUser.emailIndex) === undefined)
      throw new IamError('IAM_ERR_VERSION_CONFLICT', 'The user changed concurrently; retry.');
    const events = decideAddUserToOrg(state, {
      orgId: c.orgId,
      roles: c.roles,
      existingUserId: c.existingUserId,
      newUser,
      hiddenAccount: prepared.hiddenAccount,
    });
    const hash = prepared.passwordHash;
    const creates = hash !== undefined && c.newUser !== undefined && events.some((e) => e.type === 'UserCreated');
    return { events, secrets: creates ? [{ kind: 'passwordHash', userId: c.newUser!.userId, hash }] : [] };
  },
});
