import { membershipStreamId, userStreamId, type DomainEvent } from './events';
import { IamError } from './iam-error';
import type { IdentityState } from './member-decisions';
import { checkPrecondition } from './precondition';

/** EraseUser (contract section 6, `DELETE /api/v1/users/{userId}`). */
export interface EraseUserCommand {
  userId: string;
  /** If-Match on the user: their version. */
  expectedVersion?: number;
}

/**
 * Erasure: one UserRemovedFromOrg per membership (pending ones too: a user erased is in no organization), then
 * UserErased; the command side destroys the user's data key once they are committed, so every sealed copy of their
 * email and name reads as erased. Refused (IAM_ERR_NOT_FOUND) for a user unknown or already erased, and
 * (IAM_ERR_FORBIDDEN) for the last platform admin who can still sign in: nobody could administer the platform after.
 */
export function decideEraseUser(state: IdentityState, cmd: EraseUserCommand): DomainEvent[] {
  const user = state.users.get(cmd.userId);
  if (!user || user.status === 'erased') throw new IamError('IAM_ERR_NOT_FOUND', `User ${cmd.userId} does not exist.`);
  checkPrecondition('user', user.version, cmd.expectedVersion);
  if (user.platformAdmin && user.status === 'active' && state.users.activePlatformAdminIds().length <= 1)
    throw new IamError(
      'IAM_ERR_FORBIDDEN',
      'The last platform admin who can sign in cannot be erased: that would lock everyone out.',
    );
  const removals: DomainEvent[] = state.memberships.orgsOf(cmd.userId).map((orgId) => ({
    type: 'UserRemovedFromOrg',
    streamId: membershipStreamId(orgId, cmd.userId),
    data: { orgId, userId: cmd.userId },
  }));
  return [...removals, { type: 'UserErased', streamId: userStreamId(cmd.userId), data: { userId: cmd.userId } }];
}
