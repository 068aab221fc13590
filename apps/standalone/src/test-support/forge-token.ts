import { createPrivateKey, sign } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Signs a JWS with the server's own signing key (read from the data directory), so a test can build a
 * token that differs from a genuine one only where it says: an expiry, a header parameter, a missing claim.
 * `template` is a genuine access token: its header (alg, typ, kid) and claims are the starting point.
 * Written with node:crypto rather than jose, which refuses to sign some headers (`crit`) on purpose.
 */
export function forgeAccessToken(
  dataDir: string,
  template: string,
  changes: { header?: Record<string, unknown>; claims?: Record<string, unknown>; drop?: string[] },
): string {
  const keyDir = join(dataDir, 'keys');
  const newest = readdirSync(keyDir)
    .filter((f) => f.endsWith('.pem'))
    .sort()
    .pop();
  if (!newest) throw new Error(`no signing key in ${keyDir}`);
  const key = createPrivateKey(readFileSync(join(keyDir, newest), 'utf8'));
  const [h, p] = template.split('.');
  const header = { ...JSON.parse(Buffer.from(h, 'base64url').toString()), ...changes.header };
  const claims: Record<string, unknown> = { ...JSON.parse(Buffer.from(p, 'base64url').toString()), ...changes.claims };
  for (const name of changes.drop ?? []) delete claims[name];
  const input = `${Buffer.from(JSON.stringify(header)).toString('base64url')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
  const signature = sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' });
  return `${input}.${signature.toString('base64url')}`;
}

/** The claims of a JWT, without verifying it. */
export const claimsOf = (token: string): Record<string, any> =>
  JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString());
