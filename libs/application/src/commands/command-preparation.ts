import {
  FieldChecks,
  IamError,
  newId,
  sealedPersonalDataOf,
  type IdentityState,
  type SealedPersonalData,
  type StoredEvent,
  type UserDirectory,
  type UserEntry,
} from '@arbor/domain';
import type { PersonalData } from '../ports/read-models';
import type { SecretVault } from '../ports/secret-vault';
import type { PasswordHasher } from '../security/password-hasher';
import type { PersonalDataCipher } from '../security/personal-data-cipher';
import type { ClientSecretHasher } from '../security/client-secret-hasher';
import type { Command } from './command';
import type { LoginThrottle } from '../auth/login-throttle';
import { prepareOwnPasswordChange, prepareSetPassword } from './password-preparation';

/** What a command needs that is slow to make or touches secrets: done before the write transaction. */
export interface Prepared {
  passwordHash?: string;
  /** Sealed `{email, name}`: of a new user, or of a renamed one. */
  personal?: string;
  /** AddUserToOrg: the email's entry in the command model's email index. */
  emailIndex?: string;
  /** AddUserToOrg: the user that entry named, found erased (key destroyed) since the model folded them. */
  erasedHolder?: string;
  /** UpdateOrgUser: the new name, the name it replaces, and the position of the record that one came from. */
  name?: string;
  previousName?: string;
  basedOn?: number;
  secretHash?: string;
  /**
   * Set inside the write transaction (CommandService): the email of an AddUserToOrg names an existing account
   * that the caller cannot see, so the membership is pending.
   */
  hiddenAccount?: boolean;
  /** The `client_id` of a new client credential, minted here: no caller chooses one (it names the client for good). */
  clientId?: string;
  /** Set inside the write transaction (CommandService): ChangeOwnPassword's caller's session (`sid`), which survives it. */
  keptSessionId?: string;
}

/** Reads the sealed personal data that the event at `position` carries (an event the catalogue marks personal). */
export type SealedAt = (position: number) => Promise<SealedPersonalData>;

/** A SealedAt over a log read `read(after, limit)` (the store's, or a transaction's). Throws if no such event. */
export const sealedAtIn =
  (read: (after: number, limit: number) => Promise<StoredEvent[]>): SealedAt =>
  async (position) => {
    const [event] = await read(position - 1, 1);
    const personal = event && event.position === position ? sealedPersonalDataOf(event) : undefined;
    if (!personal) throw new Error(`No personal data at log position ${position}.`);
    return personal.sealed;
  };

export interface PreparationDeps {
  hasher: PasswordHasher;
  cipher: PersonalDataCipher;
  secrets: ClientSecretHasher;
  vault: SecretVault;
  users: UserDirectory;
  /** The email index entry of an email (a keyed digest of its `emailKey`). */
  emailIndexOf: (email: string) => Promise<string>;
  sealedAt: SealedAt;
  /** The login throttle, which counts a wrong current password of ChangeOwnPassword (see prepareOwnPasswordChange). */
  throttle?: LoginThrottle;
}

/** What ClientSecretHasher.newSecret makes: 32 random bytes in base64url, 43 characters (longer is fine). */
const CLIENT_SECRET = /^[A-Za-z0-9_-]{43,512}$/;

/**
 * Fewest distinct symbols a client secret may use. 43 uniform base64url symbols use about 31 distinct ones;
 * fewer than 16 happens to a real newSecret output with probability about 5e-14 (exact count over the 64^43
 * strings), so this refuses `AAAA...` and other low-variety strings and never a random secret. It is a
 * sanity check, not a proof of randomness: the gateways (the only holders of IAM_INTERNAL_TOKEN) make every
 * secret with newSecret, and this stops a caller of the internal API from storing a trivially guessable one.
 */
export const MIN_CLIENT_SECRET_SYMBOLS = 16;

/** Whether `secret` has the shape and variety of what ClientSecretHasher.newSecret makes. */
export const isPlausibleClientSecret = (secret: unknown): secret is string =>
  typeof secret === 'string' && CLIENT_SECRET.test(secret) && new Set(secret).size >= MIN_CLIENT_SECRET_SYMBOLS;

/**
 * Validates secret-bearing input first (so a bad password never costs a hash), then hashes passwords and
 * client secrets, seals personal data and opens what a rename needs. None of this holds the store's write
 * lock; `reconcilePrepared` re-checks, inside it, what the model may have changed meanwhile.
 */
export async function prepareCommand(command: Command, deps: PreparationDeps): Promise<Prepared> {
  switch (command.type) {
    case 'BootstrapPlatformAdmin': {
      // The admin's email passes the API's own check (IAM_BOOTSTRAP_ADMIN_EMAIL; the default admin@localhost does).
      const checks = new FieldChecks();
      const email = checks.email('/email', command.email);
      checks.done('IAM_BOOTSTRAP_ADMIN_EMAIL is not an email address the API accepts.');
      return {
        passwordHash: await deps.hasher.hash(command.password),
        personal: await deps.cipher.seal(command.userId, { email, name: command.name }),
      };
    }
    case 'AddUserToOrg': {
      if (!command.newUser) return {};
      const checks = new FieldChecks();
      const email = checks.email('/email', command.newUser.email);
      const name = checks.displayName('/name', command.newUser.name);
      const password = command.newUser.password === undefined ? undefined : checks.password('/password', command.newUser.password);
      checks.done('The user is not valid.');
      // Hashed whether or not the email is known: the answer's timing must not tell which (contract section 6).
      const passwordHash = password === undefined ? undefined : await deps.hasher.hash(password);
      const emailIndex = await deps.emailIndexOf(email);
      const holder = deps.users.idForEmailIndex(emailIndex);
      // An existing user with this email is added as is: their name and password stay theirs. The model
      // learns of an erasure when it folds the user's events; a key destroyed since then frees the email now.
      if (holder !== undefined && (await deps.vault.getDataKey(holder))) return { emailIndex };
      return {
        emailIndex,
        erasedHolder: holder,
        personal: await deps.cipher.seal(command.newUser.userId, { email, name }),
        passwordHash,
      };
    }
    case 'UpdateOrgUser':
    case 'UpdateUser': {
      if (command.name === undefined) return {};
      const checks = new FieldChecks();
      const name = checks.displayName('/name', command.name);
      checks.done('The user is not valid.');
      const user = deps.users.get(command.userId);
      const current = user && (await openCurrent(user, deps));
      const personal = current && (await deps.cipher.reseal(command.userId, { email: current.email, name }));
      if (!user || !current || !personal) throw new IamError('IAM_ERR_NOT_FOUND', `User ${command.userId} does not exist.`);
      return { name, personal, previousName: current.name, basedOn: user.personalAt ?? undefined };
    }
    case 'ChangeOwnPassword':
      return prepareOwnPasswordChange(command, {
        ...deps,
        personalOf: async (userId) => {
          const user = deps.users.get(userId);
          return user ? openCurrent(user, deps) : null;
        },
      });
    case 'SetUserPassword':
      return prepareSetPassword(command, deps);
    case 'IssueClientCredential':
      // The secret travels from the gateway: whatever sent it, nothing weaker than what newSecret makes is stored.
      if (!isPlausibleClientSecret(command.secret))
        throw new IamError('IAM_ERR_VALIDATION', `A client secret must be 256-bit random, base64url (43 or more characters, at least ${MIN_CLIENT_SECRET_SYMBOLS} distinct).`);
      return { secretHash: await deps.secrets.hash(command.secret), clientId: newId('cli') };
    default:
      return {};
  }
}

/**
 * Inside the write transaction, against the caught-up model: applies what preparation found out (a user
 * erased since the model folded them), and opens a renamed user's record again if another rename committed
 * since it was prepared (rare), so that the decider compares the new name with the current one.
 */
export async function reconcilePrepared(
  state: IdentityState,
  command: Command,
  prepared: Prepared,
  deps: { cipher: PersonalDataCipher; sealedAt: SealedAt },
): Promise<Prepared> {
  if (command.type === 'AddUserToOrg' && prepared.erasedHolder !== undefined) {
    state.users.markErased(prepared.erasedHolder);
    return prepared;
  }
  if ((command.type !== 'UpdateOrgUser' && command.type !== 'UpdateUser') || prepared.name === undefined) return prepared;
  const user = state.users.get(command.userId);
  if (!user || user.personalAt === prepared.basedOn) return prepared;
  const current = await openCurrent(user, deps);
  const personal = current && (await deps.cipher.reseal(user.id, { email: current.email, name: prepared.name }));
  if (!current || !personal) {
    // The user's key is gone: they are erased, which the decider answers with 404.
    state.users.markErased(user.id);
    return prepared;
  }
  return { ...prepared, personal, previousName: current.name, basedOn: user.personalAt ?? undefined };
}

/** The user's current `{email, name}`, opened from the event that carries it; null once erased. */
async function openCurrent(user: UserEntry, deps: { cipher: PersonalDataCipher; sealedAt: SealedAt }): Promise<PersonalData | null> {
  if (user.personalAt === null) return null;
  return deps.cipher.open(user.id, await deps.sealedAt(user.personalAt));
}
