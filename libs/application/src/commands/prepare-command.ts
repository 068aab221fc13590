import type { IdentityState } from '@arbor/domain';
import { useCaseFor } from '../use-cases/registry';
import type { ReconcileEnv } from '../use-cases/use-case';
import type { Command } from './command';
import type { PreparationDeps, Prepared } from './command-preparation';

/**
 * Before the write transaction: the command's use case validates its secret-bearing input (so a bad
 * password never costs a hash), hashes passwords and client secrets, seals personal data and opens what a
 * rename needs. None of this holds the store's write lock; `reconcilePrepared` re-checks, inside it, what
 * the model may have changed meanwhile.
 */
export async function prepareCommand(command: Command, deps: PreparationDeps): Promise<Prepared> {
  const useCase = useCaseFor(command);
  return useCase.prepare ? useCase.prepare(command, deps) : {};
}

/**
 * Inside the write transaction, against the caught-up model: what the use case's preparation found out
 * (a user erased since the model folded them), what a concurrent rename changed, and what depends on the
 * principal (a hidden account's pending membership, the session that survives a password change).
 */
export async function reconcilePrepared(
  state: IdentityState,
  command: Command,
  prepared: Prepared,
  env: ReconcileEnv,
): Promise<Prepared> {
  const useCase = useCaseFor(command);
  return useCase.reconcile ? useCase.reconcile(state, command, prepared, env) : prepared;
}
