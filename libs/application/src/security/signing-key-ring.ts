import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type JsonWebKey,
  type KeyObject,
} from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface SigningKey {
  kid: string;
  alg: 'ES256';
  privateKey: KeyObject;
  publicKey: KeyObject;
  publicJwk: JsonWebKey & { kid: string; alg: string; use: 'sig' };
}

/**
 * The token signing keys. Created on first start under `<dataDir>/keys` (directory 0700, private keys as
 * PKCS#8 PEM files of mode 0600) and loaded on every later start, so tokens survive restarts. Key objects
 * are parsed once here and reused for every signature. The newest key signs; all keys verify, which
 * leaves room for rotation.
 */
export class SigningKeyRing {
  /** When the key directory was last read for an unknown kid (ms since the epoch). */
  private lastRescan = 0;

  private constructor(
    private keys: SigningKey[],
    private readonly dir?: string,
  ) {}

  static loadOrCreate(dataDir: string): SigningKeyRing {
    const dir = join(dataDir, 'keys');
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    chmodSync(dir, 0o700);
    let files = listKeyFiles(dir);
    if (files.length === 0) {
      createKeyFile(dir);
      files = listKeyFiles(dir);
    }
    return new SigningKeyRing(
      files.map((f) => loadKey(join(dir, f))),
      dir,
    );
  }

  /** The key that signs new tokens. */
  get current(): SigningKey {
    return this.keys[this.keys.length - 1];
  }

  /**
   * The key with this kid. An unknown kid makes the ring read its directory again, at most once a second:
   * another process sharing the directory (a gateway, beside a command service that verifies its tokens)
   * may have created a key after this one loaded.
   */
  find(kid: string): SigningKey | undefined {
    const known = this.keys.find((k) => k.kid === kid);
    if (known || !this.dir || Date.now() - this.lastRescan < RESCAN_INTERVAL_MS) return known;
    this.lastRescan = Date.now();
    try {
      // Older files sort first, so the newest key stays last (the one that signs).
      const all = listKeyFiles(this.dir).map((f) => loadKey(join(this.dir!, f)));
      if (all.length > 0) this.keys = all;
    } catch {
      return undefined;
    }
    return this.keys.find((k) => k.kid === kid);
  }

  /** RFC 7517 key set of the public halves only. */
  jwks(): { keys: SigningKey['publicJwk'][] } {
    return { keys: this.keys.map((k) => k.publicJwk) };
  }
}

const RESCAN_INTERVAL_MS = 1000;

// File names sort by creation time, so the last one is the newest key.
function listKeyFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => /^signing-\d+-[a-f0-9]+\.pem$/.test(f))
    .sort();
}

function createKeyFile(dir: string): void {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const pem = privateKey.export({ format: 'pem', type: 'pkcs8' }) as string;
  const name = `signing-${String(Date.now()).padStart(15, '0')}-${createHash('sha256').update(pem).digest('hex').slice(0, 8)}.pem`;
  // Write then rename: a crash never leaves a half-written key that a later start would choke on.
  const tmp = join(dir, `.${name}.tmp`);
  writeFileSync(tmp, pem, { mode: 0o600, flag: 'wx' });
  renameSync(tmp, join(dir, name));
}

function loadKey(file: string): SigningKey {
  if (!existsSync(file)) throw new Error(`Signing key ${file} disappeared`);
  chmodSync(file, 0o600);
  const privateKey = createPrivateKey(readFileSync(file, 'utf8'));
  const publicKey = createPublicKey(privateKey);
  const jwk = publicKey.export({ format: 'jwk' });
  const kid = thumbprint(jwk);
  return {
    kid,
    alg: 'ES256',
    privateKey,
    publicKey,
    publicJwk: { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y, kid, alg: 'ES256', use: 'sig' },
  };
}

/** RFC 7638 JWK thumbprint: a kid that any party can recompute from the public key. */
function thumbprint(jwk: JsonWebKey): string {
  const canonical = JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y });
  return createHash('sha256').update(canonical).digest('base64url');
}
