import { Type, type Static } from '@sinclair/typebox';
import { FieldChecks, IamError, PASSWORD_MAX, PASSWORD_MIN, userStreamId } from '@arbor/domain';
import { IdInput, commandType, defineUseCase } from './use-case';

/** BootstrapPlatformAdmin: the first platform admin, from the operator's configuration. */
export const BootstrapPlatformAdminInput = Type.Object({
  type: commandType('BootstrapPlatformAdmin'),
  userId: IdInput,
  email: Type.String(),
  name: Type.String(),
  password: Type.String(),
});
export type BootstrapPlatformAdminInput = Static<typeof BootstrapPlatformAdminInput>;

/** Only the system runs it (in-process, at start): every principal is refused. */
export const bootstrapPlatformAdmin = defineUseCase({
  type: 'BootstrapPlatformAdmin',
  input: BootstrapPlatformAdminInput,
  authorize: async () => {
    throw new IamError('IAM_ERR_FORBIDDEN', 'Only the system creates the platform admin.');
  },
  prepare: async (c, deps) => {
    // The admin's email passes the API's own check (IAM_BOOTSTRAP_ADMIN_EMAIL; the default admin@localhost does).
    const checks = new FieldChecks();
    const email = checks.email('/email', c.email);
    checks.done('IAM_BOOTSTRAP_ADMIN_EMAIL is not an email address the API accepts.');
    // And its password the rule every other password follows (a generated one always does).
    checks.password('/password', c.password);
    checks.done(
      `IAM_BOOTSTRAP_ADMIN_PASSWORD must be ${PASSWORD_MIN} to ${PASSWORD_MAX} characters, as every password.`,
    );
    return {
      passwordHash: await deps.hasher.hash(c.password),
      personal: await deps.cipher.seal(c.userId, { email, name: c.name }),
    };
  },
  decide: (state, c, prepared) => {
    // Later starts never change the first admin: a second bootstrap decides nothing.
    if (state.users.hasPlatformAdmin() || !prepared.personal || !prepared.passwordHash) return { events: [] };
    return {
      events: [
        {
          type: 'UserCreated',
          streamId: userStreamId(c.userId),
          data: { userId: c.userId, personal: prepared.personal, platformAdmin: true },
        },
      ],
      secrets: [{ kind: 'passwordHash', userId: c.userId, hash: prepared.passwordHash }],
    };
  },
});
