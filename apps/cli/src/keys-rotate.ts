import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { KEY_PUBLICATION_LEAD_MS, SigningKeyRing } from '@arbor/application';
import { CliError, type CliIo } from './cli-io';

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
  let now: boolean;
  try {
    now = parseArgs({ args: io.args, strict: true, options: { now: { type: 'boolean' } } }).values.now === true;
  } catch (e) {
    throw new CliError(`${e instanceof Error ? e.message : String(e)}\nUsage: ${KEYS_ROTATE_USAGE}`);
  }
  const dataDir = resolve(io.env.IAM_DATA_DIR || './data');
  if (!existsSync(join(dataDir, 'keys')))
    throw new CliError(`No signing keys in ${dataDir}/keys (set IAM_DATA_DIR to the servers' data directory).`);
  const keys = SigningKeyRing.loadOrCreate(dataDir);
  const key = keys.rotate(now ? Date.now() : Date.now() + KEY_PUBLICATION_LEAD_MS);
  io.out(
    `New signing key ${key.kid}: in the JWKS within a minute, signing from ${new Date(key.activeFrom).toISOString()}` +
      ` (${keys.all().length} keys in ${join(dataDir, 'keys')}).`,
  );
}
