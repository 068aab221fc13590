import type { DomainEvent } from './events';
import { userStreamId } from './events';
import { IamError } from './iam-error';
import type { IdentityState } from './member-decisions';

/**
 * Passwords change in two ways (contract section 6), both events of the user's stream that hold no secret
 * (the new hash goes to the vault, written by the command side with the events):
 * - the user changes their own, having proved the current one: `UserPasswordChanged`, which ends every other
 *   session of theirs (`keptSessionId`, the `sid` of the session that asked, survives);
 * - a platform admin or an operator sets it: `UserPasswordSet`, which ends every session of theirs.
 * Erased users have no password to change (404); disabled users may be given one (it works once enabled).
 */
export function decidePasswordChange(
  state: IdentityState,
  cmd: { userId: string; by: 'self'; keptSessionId?: string } | { userId: string; by: 'admin' },
): DomainEvent[] {
  const user = state.users.get(cmd.userId);
  if (!user || user.status === 'erased') throw new IamError('IAM_ERR_NOT_FOUND', `User ${cmd.userId} does not exist.`);
  const streamId = userStreamId(cmd.userId);
  if (cmd.by === 'admin') return [{ type: 'UserPasswordSet', streamId, data: { userId: cmd.userId } }];
  const data =
    cmd.keptSessionId === undefined ? { userId: cmd.userId } : { userId: cmd.userId, keptSessionId: cmd.keptSessionId };
  return [{ type: 'UserPasswordChanged', streamId, data }];
}
