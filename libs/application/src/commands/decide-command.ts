import { IamError, type IdentityState } from '@arbor/domain';
import type { SecretVault } from '../ports/secret-vault';
import { useCaseFor } from '../use-cases/registry';
import type { Decision, SecretToStore } from '../use-cases/use-case';
import type { Command } from './command';
import type { Prepared } from './command-preparation';

/** Events that open a stream: their stream must not exist yet (see `decideCommand`). */
const CREATIONS: ReadonlySet<string> = new Set([
  'OrgCreated',
  'UserCreated',
  'ClientCredentialIssued',
  'RoleDefined',
  'WebhookSubscriptionCreated',
]);

/**
 * Pure: what a command decides (its use case's `decide`) against a caught-up model, and the secrets its
 * events need stored. Runs inside the command's store transaction. The ids a creation uses come from
 * outside the command service (a gateway mints them, for its `Location` and idempotency records), so every
 * event that opens a stream must name one that has never existed (`streamExists` knows gone streams too):
 * an id already used, whoever sent it, is a 409 before anything is written. Writes nothing: the command
 * service stores the decision's secrets (`storeSecrets`) and then appends its events.
 * Throws IamError: IAM_ERR_PRECONDITION_FAILED (412), IAM_ERR_VERSION_CONFLICT (409), and the decider's own.
 */
export function decideCommand(
  state: IdentityState,
  command: Command,
  prepared: Prepared,
  streamExists: (streamId: string) => boolean,
): Decision {
  // Reached only once the command is authorized: a 403 or 404 goes before a failed precondition.
  if ('preconditionFailed' in command && command.preconditionFailed === true)
    throw new IamError('IAM_ERR_PRECONDITION_FAILED', 'If-Match matches no current representation of the resource.');
  const decision = useCaseFor(command).decide(state, command, prepared);
  for (const event of decision.events)
    if (CREATIONS.has(event.type) && streamExists(event.streamId))
      throw new IamError(
        'IAM_ERR_VERSION_CONFLICT',
        `${event.streamId} already exists: a new resource needs a new id.`,
      );
  return decision;
}

/**
 * The commit step's first write: a decision's secrets, inside the write transaction, after `decideCommand`
 * checked that every stream it opens is new and before its events are appended (a rollback leaves only an
 * unused vault row, never an overwritten one; the rows replaced are a user's password hash, see contract
 * section 6, and a webhook subscription's pending rotation, which signs only once promoted after the commit).
 */
export async function storeSecrets(vault: SecretVault, secrets: readonly SecretToStore[] = []): Promise<void> {
  for (const secret of secrets)
    if (secret.kind === 'passwordHash') await vault.setPasswordHash(secret.userId, secret.hash);
    else if (secret.kind === 'clientSecretHash')
      await vault.setClientSecretHash(secret.clientCredentialId, secret.hash);
    else await vault.setWebhookSecret(secret.subscriptionId, secret.secret, secret.previousSecretExpiresAt);
}
