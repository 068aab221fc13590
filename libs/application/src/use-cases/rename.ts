import { FieldChecks, IamError, type IdentityState } from '@arbor/domain';
import { openCurrent, type PreparationDeps, type Prepared } from '../commands/command-preparation';
import type { ReconcileEnv } from './use-case';

/**
 * The preparation a rename needs (UpdateOrgUser, UpdateUser): the new name checked, the user's record
 * opened and sealed again around it, and the name it replaces. No name, nothing to prepare.
 * Throws IamError IAM_ERR_VALIDATION (field `/name`), IAM_ERR_NOT_FOUND when the user is unknown or erased.
 */
export async function prepareRename(userId: string, newName: unknown, deps: PreparationDeps): Promise<Prepared> {
  if (newName === undefined) return {};
  const checks = new FieldChecks();
  const name = checks.displayName('/name', newName);
  checks.done('The user is not valid.');
  const user = deps.users.get(userId);
  const current = user && (await openCurrent(user, deps));
  const personal = current && (await deps.cipher.reseal(userId, { email: current.email, name }));
  if (!user || !current || !personal) throw new IamError('IAM_ERR_NOT_FOUND', `User ${userId} does not exist.`);
  return { name, personal, previousName: current.name, basedOn: user.personalAt ?? undefined };
}

/**
 * Inside the write transaction: opens a renamed user's record again if another rename committed since it
 * was prepared (rare), so that the decider compares the new name with the current one.
 */
export async function reconcileRename(
  state: IdentityState,
  userId: string,
  prepared: Prepared,
  env: ReconcileEnv,
): Promise<Prepared> {
  if (prepared.name === undefined) return prepared;
  const user = state.users.get(userId);
  if (!user || user.personalAt === prepared.basedOn) return prepared;
  const current = await openCurrent(user, env);
  const personal = current && (await env.cipher.reseal(user.id, { email: current.email, name: prepared.name }));
  if (!current || !personal) {
    // The user's key is gone: they are erased, which the decider answers with 404.
    state.users.markErased(user.id);
    return prepared;
  }
  return { ...prepared, personal, previousName: current.name, basedOn: user.personalAt ?? undefined };
}
