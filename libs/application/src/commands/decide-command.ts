import {
  IamError,
  decideAddUserToOrg,
  decideCreateOrg,
  decideDeleteOrg,
  decideIssueClientCredential,
  decideRemoveUserFromOrg,
  decideRenameUser,
  decideReplaceOrg,
  decideRevokeClientCredential,
  decideSetUserStatus,
  decideUpdateOrgUser,
  userStreamId,
  type DomainEvent,
  type IdentityState,
} from '@arbor/domain';
import type { SecretVault } from '../ports/secret-vault';
import type { Command } from './command';
import type { Prepared } from './command-preparation';

/**
 * Maps a command to its domain decider. Runs inside the command's store transaction, against a caught-up
 * model. Vault writes precede the events they serve (a rollback leaves only an unused vault row).
 */
export async function decideCommand(state: IdentityState, command: Command, prepared: Prepared, vault: SecretVault): Promise<DomainEvent[]> {
  switch (command.type) {
    case 'CreateOrg':
      return decideCreateOrg(state.orgs, command);
    case 'ReplaceOrg':
      return decideReplaceOrg(state.orgs, command);
    case 'DeleteOrg':
      return decideDeleteOrg(state.orgs, command, state.memberships);
    case 'BootstrapPlatformAdmin': {
      // Later starts never change the first admin: a second bootstrap decides nothing.
      if (state.users.hasPlatformAdmin() || !prepared.personal || !prepared.passwordHash) return [];
      // The hash goes to the vault before the event commits; a rollback leaves only an unused vault row.
      await vault.setPasswordHash(command.userId, prepared.passwordHash);
      return [
        {
          type: 'UserCreated',
          streamId: userStreamId(command.userId),
          data: { userId: command.userId, personal: prepared.personal, platformAdmin: true },
        },
      ];
    }
    case 'AddUserToOrg': {
      const newUser =
        command.newUser && prepared.emailIndex !== undefined
          ? { userId: command.newUser.userId, emailIndex: prepared.emailIndex, personal: prepared.personal ?? '' }
          : undefined;
      if (newUser && !prepared.personal && state.users.idForEmailIndex(newUser.emailIndex) === undefined)
        throw new IamError('IAM_ERR_VERSION_CONFLICT', 'The user changed concurrently; retry.');
      const events = decideAddUserToOrg(state, { orgId: command.orgId, roles: command.roles, existingUserId: command.existingUserId, newUser });
      if (prepared.passwordHash && events.some((e) => e.type === 'UserCreated'))
        await vault.setPasswordHash(command.newUser!.userId, prepared.passwordHash);
      return events;
    }
    case 'UpdateOrgUser':
      return decideUpdateOrgUser(state, {
        orgId: command.orgId,
        userId: command.userId,
        roles: command.roles,
        rename:
          prepared.name !== undefined && prepared.personal && prepared.previousName !== undefined
            ? { name: prepared.name, personal: prepared.personal, previousName: prepared.previousName }
            : undefined,
        expectedVersion: command.expectedVersion,
      });
    case 'RemoveUserFromOrg':
      return decideRemoveUserFromOrg(state, command);
    case 'UpdateUser': {
      // Both parts are checked against the version the caller saw, before either changes it.
      const events = decideRenameUser(state, {
        userId: command.userId,
        rename:
          prepared.name !== undefined && prepared.personal && prepared.previousName !== undefined
            ? { name: prepared.name, personal: prepared.personal, previousName: prepared.previousName }
            : undefined,
        expectedVersion: command.expectedVersion,
      });
      if (command.status === undefined) return events;
      return [...events, ...decideSetUserStatus(state, { userId: command.userId, status: command.status, expectedVersion: command.expectedVersion })];
    }
    case 'IssueClientCredential': {
      const events = decideIssueClientCredential(state, command);
      await vault.setClientSecretHash(command.clientCredentialId, prepared.secretHash!);
      return events;
    }
    case 'RevokeClientCredential':
      return decideRevokeClientCredential(state, command);
  }
}
