import {
  IamError,
  decideAddUserToOrg,
  decideConfirmMembership,
  decideCreateOrg,
  decidePasswordChange,
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

/** A secret to store once the command's events are known to be new: done inside the write transaction. */
type VaultWrite = (vault: SecretVault) => Promise<void>;

interface Decision {
  events: DomainEvent[];
  vaultWrites?: VaultWrite[];
}

/** Events that open a stream: their stream must not exist yet (see `decideCommand`). */
const CREATIONS: ReadonlySet<string> = new Set(['OrgCreated', 'UserCreated', 'ClientCredentialIssued']);

/**
 * Maps a command to its domain decider and applies its vault writes. Runs inside the command's store
 * transaction, against a caught-up model. The ids a creation uses come from outside the command service (a
 * gateway mints them, for its `Location` and idempotency records), so every event that opens a stream must
 * name one that has never existed (`streamExists` knows gone streams too): an id already used, whoever sent
 * it, is a 409 before anything is written. Vault writes follow that check and precede the events they serve
 * (a rollback leaves only an unused vault row, never an overwritten one).
 */
export async function decideCommand(
  state: IdentityState,
  command: Command,
  prepared: Prepared,
  vault: SecretVault,
  streamExists: (streamId: string) => boolean,
): Promise<DomainEvent[]> {
  // Reached only once the command is authorized: a 403 or 404 goes before a failed precondition.
  if ('preconditionFailed' in command && command.preconditionFailed === true)
    throw new IamError('IAM_ERR_PRECONDITION_FAILED', 'If-Match matches no current representation of the resource.');
  const { events, vaultWrites = [] } = decide(state, command, prepared);
  for (const event of events)
    if (CREATIONS.has(event.type) && streamExists(event.streamId))
      throw new IamError('IAM_ERR_VERSION_CONFLICT', `${event.streamId} already exists: a new resource needs a new id.`);
  for (const write of vaultWrites) await write(vault);
  return events;
}

/** The pure part: what each command decides, and which secrets it needs stored. */
function decide(state: IdentityState, command: Command, prepared: Prepared): Decision {
  switch (command.type) {
    case 'CreateOrg':
      return { events: decideCreateOrg(state.orgs, command) };
    case 'ReplaceOrg':
      return { events: decideReplaceOrg(state.orgs, command) };
    case 'DeleteOrg':
      return { events: decideDeleteOrg(state.orgs, command, state.memberships) };
    case 'BootstrapPlatformAdmin': {
      // Later starts never change the first admin: a second bootstrap decides nothing.
      if (state.users.hasPlatformAdmin() || !prepared.personal || !prepared.passwordHash) return { events: [] };
      const passwordHash = prepared.passwordHash;
      return {
        events: [
          {
            type: 'UserCreated',
            streamId: userStreamId(command.userId),
            data: { userId: command.userId, personal: prepared.personal, platformAdmin: true },
          },
        ],
        vaultWrites: [(vault) => vault.setPasswordHash(command.userId, passwordHash)],
      };
    }
    case 'AddUserToOrg': {
      const newUser =
        command.newUser && prepared.emailIndex !== undefined
          ? { userId: command.newUser.userId, emailIndex: prepared.emailIndex, personal: prepared.personal ?? '' }
          : undefined;
      if (newUser && !prepared.personal && state.users.idForEmailIndex(newUser.emailIndex) === undefined)
        throw new IamError('IAM_ERR_VERSION_CONFLICT', 'The user changed concurrently; retry.');
      const events = decideAddUserToOrg(state, {
        orgId: command.orgId,
        roles: command.roles,
        existingUserId: command.existingUserId,
        newUser,
        hiddenAccount: prepared.hiddenAccount,
      });
      const passwordHash = prepared.passwordHash;
      const creates = passwordHash !== undefined && events.some((e) => e.type === 'UserCreated');
      return { events, vaultWrites: creates ? [(vault) => vault.setPasswordHash(command.newUser!.userId, passwordHash)] : [] };
    }
    case 'UpdateOrgUser':
      return {
        events: decideUpdateOrgUser(state, {
          orgId: command.orgId,
          userId: command.userId,
          roles: command.roles,
          rename: renameOf(prepared),
          expectedVersion: command.expectedVersion,
          expectedUserVersion: command.expectedUserVersion,
        }),
      };
    case 'RemoveUserFromOrg':
      return { events: decideRemoveUserFromOrg(state, command) };
    case 'ConfirmMembership':
      return { events: decideConfirmMembership(state, command) };
    case 'UpdateUser': {
      // Both parts are checked against the version the caller saw, before either changes it.
      const events = decideRenameUser(state, {
        userId: command.userId,
        rename: renameOf(prepared),
        expectedVersion: command.expectedVersion,
      });
      if (command.status === undefined) return { events };
      const status = decideSetUserStatus(state, { userId: command.userId, status: command.status, expectedVersion: command.expectedVersion });
      return { events: [...events, ...status] };
    }
    case 'ChangeOwnPassword':
    case 'SetUserPassword': {
      const passwordHash = prepared.passwordHash;
      if (passwordHash === undefined) throw new Error(`${command.type} was not prepared`);
      const by = command.type === 'ChangeOwnPassword' ? { by: 'self' as const, keptSessionId: prepared.keptSessionId } : { by: 'admin' as const };
      // The one vault write that replaces a row: the user's hash, right before the event that records it (a
      // failure between the two leaves the new password set without its event; see contract section 6).
      return {
        events: decidePasswordChange(state, { userId: command.userId, ...by }),
        vaultWrites: [(vault) => vault.setPasswordHash(command.userId, passwordHash)],
      };
    }
    case 'IssueClientCredential': {
      const { secretHash, clientId } = prepared;
      if (secretHash === undefined || clientId === undefined) throw new Error('IssueClientCredential was not prepared');
      return {
        events: decideIssueClientCredential(state, { ...command, clientId }),
        vaultWrites: [(vault) => vault.setClientSecretHash(command.clientCredentialId, secretHash)],
      };
    }
    case 'RevokeClientCredential':
      return { events: decideRevokeClientCredential(state, command) };
  }
}

/** The rename a command's preparation carries (new name, re-sealed record, the name it replaces), if any. */
function renameOf(prepared: Prepared): { name: string; personal: string; previousName: string } | undefined {
  return prepared.name !== undefined && prepared.personal && prepared.previousName !== undefined
    ? { name: prepared.name, personal: prepared.personal, previousName: prepared.previousName }
    : undefined;
}
