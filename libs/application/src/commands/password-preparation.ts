import { FieldChecks, IamError, emailKey } from '@arbor/domain';
import { THROTTLED, type LoginThrottle } from '../auth/login-throttle';
import type { PersonalData } from '../ports/read-models';
import type { SecretVault } from '../ports/secret-vault';
import { SATURATED, type PasswordHasher } from '../security/password-hasher';
import type { CommandOf } from './command';

export interface PasswordPreparationDeps {
  hasher: PasswordHasher;
  vault: SecretVault;
  /**
   * The login throttle over the deployment's shared counters: a wrong current password counts exactly as a
   * failed login of the account does. Without it, ChangeOwnPassword is refused (nothing may guess unthrottled).
   */
  throttle?: LoginThrottle;
  /** The user's current `{email, name}`, null when erased or unknown (the throttle's subject is the email). */
  personalOf: (userId: string) => Promise<PersonalData | null>;
}

/**
 * ChangeOwnPassword, before the write transaction: checks the new password with the rules of adding a user
 * (so a weak one costs no hash), then the current one as the password grant does (contract section 3): the
 * attempt reserves its points at the login throttle of `account:<email key>` and the caller's source before
 * the hash is checked; a wrong password keeps them (IAM_ERR_CURRENT_PASSWORD_INVALID, 403), a right one
 * clears the pair's failures; a refusal is IAM_ERR_RATE_LIMITED with its Retry-After. Returns the new hash.
 */
export async function prepareOwnPasswordChange(
  command: CommandOf<'ChangeOwnPassword'>,
  deps: PasswordPreparationDeps,
): Promise<{ passwordHash: string }> {
  const checks = new FieldChecks();
  const current = command.currentPassword;
  if (typeof current !== 'string' || current === '') checks.fail('/currentPassword', 'is required');
  const next = checks.password('/newPassword', command.newPassword);
  checks.done('The password change is not valid.');
  const personal = await deps.personalOf(command.userId);
  if (!personal) throw new IamError('IAM_ERR_NOT_FOUND', `User ${command.userId} does not exist.`);
  if (!deps.throttle) throw new Error('ChangeOwnPassword needs the login throttle.');
  if (deps.hasher.saturated) throw new IamError('IAM_ERR_RATE_LIMITED', SATURATED);
  const attempt = await deps.throttle.reserve(`account:${emailKey(personal.email)}`, command.source);
  if (!attempt.ok) throw new IamError('IAM_ERR_RATE_LIMITED', THROTTLED, undefined, attempt.retryAfterSeconds);
  let valid: boolean;
  try {
    valid = await deps.hasher.verify(current as string, await deps.vault.getPasswordHash(command.userId));
  } catch (e) {
    // Nothing was decided (e.g. the hasher shed the check): the attempt gives its points back.
    await attempt.release();
    throw e;
  }
  // A failure keeps its points, as a failed login does.
  if (!valid)
    throw new IamError('IAM_ERR_CURRENT_PASSWORD_INVALID', 'The current password is incorrect.', [
      { path: '/currentPassword', message: 'is not the current password' },
    ]);
  await attempt.succeeded();
  return { passwordHash: await deps.hasher.hash(next) };
}

/** SetUserPassword: the rules of adding a user, then the hash. Whether the user exists is the decider's question. */
export async function prepareSetPassword(
  command: CommandOf<'SetUserPassword'>,
  deps: Pick<PasswordPreparationDeps, 'hasher'>,
): Promise<{ passwordHash: string }> {
  const checks = new FieldChecks();
  const password = checks.password('/password', command.password);
  checks.done('The password is not valid.');
  return { passwordHash: await deps.hasher.hash(password) };
}
