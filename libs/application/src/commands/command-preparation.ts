import {
  sealedPersonalDataOf,
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
import type { LoginThrottle } from '../auth/login-throttle';

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
  /** Set inside the write transaction: who switches a webhook subscription off (`user usr_...`, `client cli_...`). */
  changedBy?: string;
  /** RotateWebhookSecret: until when the secret it replaces keeps signing (ISO 8601), from the command service's clock. */
  previousSecretExpiresAt?: string;
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

/** The user's current `{email, name}`, opened from the event that carries it; null once erased. */
export async function openCurrent(
  user: UserEntry,
  deps: { cipher: PersonalDataCipher; sealedAt: SealedAt },
): Promise<PersonalData | null> {
  if (user.personalAt === null) return null;
  return deps.cipher.open(user.id, await deps.sealedAt(user.personalAt));
}
