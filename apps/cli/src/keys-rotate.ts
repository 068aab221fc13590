import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { KEY_PUBLICATION_LEAD_MS, SigningKeyRing } from '@arbor/application';
import { CliError, parseOptionsOnce, type CliIo } from './cli-io';
import { dataDirOf } from './deployment';

export const KEYS_ROTATE_USAGE = 'arbor keys rotate [--now]';

/**
 * `arbor keys rotate`: creates the next signing key in `IAM_DATA_DIR/keys` (default ./data; in the distributed
 * profile, the directory the gateways share), while the servers run: they read the directory every minute
 * (startKeyRotation), publish the key in the JWKS, and sign with it from KEY_PUBLICATION_LEAD_MS (10 min) on, once
 * relying parties' JWKS caches have turned over; `--now` makes it sign at once (a key that may have leaked: tokens
 * signed by the new key then name a kid that caches must fetch). The old keys stay, to verify what they signed.
 * Prints the new key's kid and when it signs. Errors (CliError, exit 1): an option unknown, no key directory.
 */
export async function keysRotate(io: CliIo): Promise<void> {
  const now = parseOptionsOnce(io.args, { now: 'boolean' }, KEYS_ROTATE_USAGE).now === true;
  const { dataDir, keys } = existingKeys(io.env);
  const key = keys.rotate(now ? Date.now() : Date.now() + KEY_PUBLICATION_LEAD_MS);
  io.out(
    `New signing key ${key.kid}: in the JWKS within a minute, signing from ${new Date(key.activeFrom).toISOString()}` +
      ` (${keys.all().length} keys in ${join(dataDir, 'keys')}).`,
  );
}

export const KEYS_REVOKE_USAGE = 'arbor keys revoke [--] KID';

/** A kid as the key ring names keys: the RFC 7638 thumbprint, base64url (43 characters; it may begin with `-`). */
const KID = /^[A-Za-z0-9_-]{43}$/;

/**
 * `arbor keys revoke <kid>`: deletes a signing key that may have leaked from `IAM_DATA_DIR/keys` (SigningKeyRing.revoke):
 * it leaves the JWKS, and what it signed (tokens, checkpoints and signed heads of the event log) no longer verifies.
 * The running servers drop it within a minute. Errors (CliError, exit 1): no kid or an unknown one, the key that
 * signs now (run `arbor keys rotate --now` first), no key directory.
 */
export async function keysRevoke(io: CliIo): Promise<void> {
  // One in 64 kids begins with `-`: such a kid is a kid, not an option (and `--` may precede any).
  const args = io.args[0] === '--' ? io.args.slice(1) : io.args;
  const kid = args[0];
  if (args.length !== 1 || (kid.startsWith('-') && !KID.test(kid))) throw new CliError(`Usage: ${KEYS_REVOKE_USAGE}`);
  const { dataDir, keys } = existingKeys(io.env);
  try {
    keys.revoke(kid);
  } catch (e) {
    throw new CliError(e instanceof Error ? e.message : String(e));
  }
  io.out(
    `Revoked signing key ${kid}: it is deleted, leaves the JWKS, and what it signed no longer verifies ` +
      `(${keys.all().length} keys left in ${join(dataDir, 'keys')}).`,
  );
}

/** The key ring of IAM_DATA_DIR/keys, which must exist (a CLI never makes the first key: the servers do). */
function existingKeys(env: NodeJS.ProcessEnv): { dataDir: string; keys: SigningKeyRing } {
  const dataDir = dataDirOf(env);
  if (!existsSync(join(dataDir, 'keys')))
    throw new CliError(`No signing keys in ${dataDir}/keys (set IAM_DATA_DIR to the servers' data directory).`);
  return { dataDir, keys: SigningKeyRing.loadOrCreate(dataDir) };
}
