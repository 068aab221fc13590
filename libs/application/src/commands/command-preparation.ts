import { FieldChecks, IamError, type UserDirectory } from '@arbor/domain';
import type { PasswordHasher } from '../security/password-hasher';
import type { PersonalDataCipher } from '../security/personal-data-cipher';
import type { ClientSecretHasher } from '../security/client-secret-hasher';
import type { Command } from './command';

/** What a command needs that is slow to make or touches secrets: done before the write transaction. */
export interface Prepared {
  passwordHash?: string;
  personal?: string;
  email?: string;
  name?: string;
  secretHash?: string;
}

/**
 * Validates secret-bearing input first (so a bad password never costs a hash), then hashes passwords and
 * client secrets and seals personal data. None of this holds the store's write lock.
 */
export async function prepareCommand(
  command: Command,
  deps: { hasher: PasswordHasher; cipher: PersonalDataCipher; secrets: ClientSecretHasher; users: UserDirectory },
): Promise<Prepared> {
  switch (command.type) {
    case 'BootstrapPlatformAdmin':
      return {
        passwordHash: await deps.hasher.hash(command.password),
        personal: await deps.cipher.seal(command.userId, { email: command.email, name: command.name }),
      };
    case 'AddUserToOrg': {
      if (!command.newUser) return {};
      const checks = new FieldChecks();
      const email = checks.email('/email', command.newUser.email);
      const name = checks.displayName('/name', command.newUser.name);
      const password = command.newUser.password === undefined ? undefined : checks.password('/password', command.newUser.password);
      checks.done('The user is not valid.');
      // Hashed whether or not the email is known: the answer's timing must not tell which (contract section 6).
      const passwordHash = password === undefined ? undefined : await deps.hasher.hash(password);
      // An existing user with this email is added as is: their name and password stay theirs.
      if (deps.users.idForEmail(email) !== undefined) return { email };
      return { email, name, personal: await deps.cipher.seal(command.newUser.userId, { email, name }), passwordHash };
    }
    case 'UpdateOrgUser':
    case 'UpdateUser': {
      if (command.name === undefined) return {};
      const checks = new FieldChecks();
      const name = checks.displayName('/name', command.name);
      checks.done('The user is not valid.');
      const user = deps.users.get(command.userId);
      if (!user || user.email === null) throw new IamError('IAM_ERR_NOT_FOUND', `User ${command.userId} does not exist.`);
      return { name, personal: await deps.cipher.seal(user.id, { email: user.email, name }) };
    }
    case 'IssueClientCredential':
      return { secretHash: await deps.secrets.hash(command.secret) };
    default:
      return {};
  }
}
