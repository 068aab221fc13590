import type { OrgNode } from '@arbor/domain';
import type { AccessPolicy } from '../auth/access-policy';
import type { Principal } from '../auth/principal';
import { useCaseFor } from '../use-cases/registry';
import type { Command } from './command';

/** Who a command runs for: a caller's principal, or the system itself (in-process only: the bootstrap). */
export type CommandPrincipal = Principal | 'system';

/**
 * Throws unless `principal` may run `command` (contract section 4); the system may run anything. What each
 * command requires is its use case's `authorize` (libs/application/src/use-cases/<name>.ts). The command
 * service asks it inside the write transaction, against the command model, for every transport (the
 * embedded routes and the distributed internal API alike), on a command validated by `validateCommand`.
 * Throws IamError: IAM_ERR_NOT_FOUND where the caller may not see the resource, IAM_ERR_FORBIDDEN where they
 * may see it but not do this.
 */
export function authorizeCommand(
  policy: AccessPolicy<OrgNode>,
  principal: CommandPrincipal,
  command: Command,
): Promise<void> {
  if (principal === 'system') return Promise.resolve();
  return useCaseFor(command).authorize(policy, principal, command);
}
