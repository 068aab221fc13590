import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type JsonWebKey,
  type KeyObject,
} from 'node:crypto';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  watch,
  writeFileSync,
  type FSWatcher,
} from 'node:fs';
import { basename, join } from 'node:path';

export interface SigningKey {
  kid: string;
  alg: 'ES256';
  privateKey: KeyObject;
  publicKey: KeyObject;
  publicJwk: JsonWebKey & { kid: string; alg: string; use: 'sig' };
  /** From when it signs (ms since the epoch; its file name holds it). It is in the JWKS from its creation. */
  activeFrom: number;
}

/**
 * How long a new key is published in the JWKS before it signs: relying parties that cache the JWKS (Arbor serves it
 * with `max-age=300`) have fetched it by then, so no token they receive names a key they have not seen.
 */
export const KEY_PUBLICATION_LEAD_MS = 10 * 60_000;

/**
 * The signing keys (tokens, signed heads of the event log). Created on first start under `<dataDir>/keys`
 * (directory 0700, private keys as PKCS#8 PEM files of mode 0600, named `signing-<activeFrom ms>-<hash>.pem`) and
 * loaded on every later start, so tokens survive restarts. Key objects are parsed once here and reused for every
 * signature.
 *
 * Rotation (`rotate`, `rotateIfDue`): a new key is published at once and signs from `activeFrom`, by default
 * KEY_PUBLICATION_LEAD_MS later; the key that signs (`current`) is the newest whose time has come. Retired keys
 * stay: they verify what they signed (access tokens until they expire; signed heads of the event log for as long as
 * an auditor keeps one) and stay in the JWKS. Several processes may share the directory: each reads it again
 * before rotating (`reload`), so the first to rotate wins and the others adopt its key.
 */
export class SigningKeyRing {
  /** When the key directory was last read for an unknown kid (ms since the epoch). */
  private lastRescan = 0;
  /** The directory's mtime when it was last read: `jwks()` reads it again when that changed. */
  private dirMtimeMs = 0;
  /** The key files' names at the last read, joined: compared while the directory's mtime is young. */
  private fileNames = '';
  /** Tells of every change in the directory (inotify on Linux); without one, every use of the ring checks it. */
  private watcher: FSWatcher | undefined;
  /** Set by the watcher: the directory changed since the last check. */
  private changed = false;
  /** When the directory was last checked (`performance.now()`, ms). */
  private lastCheck = 0;

  private constructor(
    /** Oldest `activeFrom` first. */
    private keys: SigningKey[],
    private readonly dir?: string,
  ) {
    if (dir === undefined) return;
    try {
      // Not persistent: the watcher alone never keeps a process alive.
      this.watcher = watch(dir, { persistent: false }, () => (this.changed = true));
      this.watcher.on('error', () => this.unwatch());
    } catch {
      // No watcher here (a file system without change notification, or the inotify limit reached): every use checks.
    }
  }

  /** Stops watching the key directory (a ring no longer used; the process's end does it too). */
  close(): void {
    this.unwatch();
  }

  private unwatch(): void {
    this.watcher?.close();
    this.watcher = undefined;
  }

  static loadOrCreate(dataDir: string): SigningKeyRing {
    const dir = join(dataDir, 'keys');
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    chmodSync(dir, 0o700);
    if (listKeyFiles(dir).length === 0) createKeyFile(dir, Date.now());
    const ring = new SigningKeyRing([], dir);
    ring.reload();
    return ring;
  }

  /**
   * The key that signs now: the newest whose `activeFrom` has passed (the oldest key if none has, yet). Reads the
   * directory again first when it changed (see reloadIfChanged).
   */
  get current(): SigningKey {
    this.reloadIfChanged();
    return currentOf(this.keys, Date.now());
  }

  /** Every key, oldest first, including those not signing yet. */
  all(): readonly SigningKey[] {
    return this.keys;
  }

  /**
   * The key with this kid. An unknown kid makes the ring read its directory again, at most once a second:
   * another process sharing the directory (a gateway, beside a command service that verifies its tokens)
   * may have created a key after this one loaded.
   */
  find(kid: string): SigningKey | undefined {
    this.reloadIfChanged();
    const known = this.keys.find((k) => k.kid === kid);
    if (known || !this.dir || Date.now() - this.lastRescan < RESCAN_INTERVAL_MS) return known;
    this.lastRescan = Date.now();
    try {
      this.reload();
    } catch {
      return undefined;
    }
    return this.keys.find((k) => k.kid === kid);
  }

  /** Reads the key directory again (keys another process, or `arbor keys rotate`, created). Throws on an unreadable key. */
  reload(): void {
    if (!this.dir) return;
    const mtimeMs = statSync(this.dir).mtimeMs;
    const names = listKeyFiles(this.dir);
    const all = names.map((f) => loadKey(join(this.dir!, f)));
    if (all.length > 0) this.keys = all;
    // Only once read: a read that failed (a key deleted while being read) is tried again at the next use.
    this.dirMtimeMs = mtimeMs;
    this.fileNames = names.join('/');
  }

  /**
   * Reads the key directory again when its mtime changed since the last read. Several processes share the
   * directory (the embedded writer and its HTTP workers, gateways, `arbor keys rotate|revoke`): a key revoked by any
   * of them verifies nothing in any process once the kernel has told that process of the change (the watcher's event
   * comes before any request that arrives after the change), and a key rotated in signs everywhere when its time
   * comes, not at the next scheduled check. The directory is checked (one stat) only after such an event, and at
   * least once every CHECK_INTERVAL_MS whatever the watcher says (every use where there is no watcher): a stat on
   * every signature and verification cost 2% of an organization creation and more of a read. A failed stat or read
   * keeps the keys already loaded (the rotation schedule reports the failure).
   */
  reloadIfChanged(): void {
    if (!this.dir) return;
    // A monotonic clock: a wall clock stepped back would hold the once-a-second check off until it caught up.
    const now = performance.now();
    if (this.watcher !== undefined && !this.changed && now - this.lastCheck < CHECK_INTERVAL_MS) return;
    this.changed = false;
    this.lastCheck = now;
    try {
      const mtimeMs = statSync(this.dir).mtimeMs;
      if (mtimeMs !== this.dirMtimeMs) this.reload();
      // The mtime's resolution is coarse: a key written and renamed into place within the tick of the read above
      // leaves the same mtime. While it is young the names are compared too (a readdir; keys are parsed only when
      // they differ).
      else if (Date.now() - mtimeMs < MTIME_SETTLE_MS && listKeyFiles(this.dir).join('/') !== this.fileNames)
        this.reload();
    } catch {
      // The keys already loaded are still the best answer; the next use tries again.
      this.changed = true;
    }
  }

  /**
   * Creates the next key, published now, signing from `activeFrom` (default: KEY_PUBLICATION_LEAD_MS from now;
   * `Date.now()` to sign at once, e.g. when the current key may have leaked). Returns it.
   */
  rotate(activeFrom: number = Date.now() + KEY_PUBLICATION_LEAD_MS): SigningKey {
    if (!this.dir) throw new Error('This key ring has no directory to rotate in.');
    const name = createKeyFile(this.dir, activeFrom);
    this.reload();
    return this.keys.find((k) => k.kid === thumbprintOfFile(join(this.dir!, name))) as SigningKey;
  }

  /**
   * Revokes a key that may have leaked: its file is deleted (the private key is gone for good), so it leaves the
   * JWKS and verifies nothing any more: tokens and signed heads it signed are refused (they could have been forged
   * with it), and the log's checkpoints it signed are skipped as no evidence (UncheckedCheckpoint). Refused for an unknown kid, and for the key that signs now
   * or any key not yet signing when no other key would be left to sign (`rotate(Date.now())` first). Returns the
   * key revoked. Other processes sharing the directory drop it once the kernel has told them (reloadIfChanged).
   */
  revoke(kid: string, now: number = Date.now()): SigningKey {
    if (!this.dir) throw new Error('This key ring has no directory to revoke in.');
    this.reload();
    const key = this.keys.find((k) => k.kid === kid);
    if (key === undefined) throw new Error(`No signing key has the kid ${kid}.`);
    const others = this.keys.filter((k) => k !== key);
    if (others.length === 0 || currentOf(this.keys, now) === key)
      throw new Error(`The key ${kid} signs now: rotate with --now first, then revoke it.`);
    const file = listKeyFiles(this.dir).find((f) => thumbprintOfFile(join(this.dir!, f)) === kid);
    if (file === undefined) throw new Error(`The file of key ${kid} is gone.`);
    rmSync(join(this.dir, file));
    this.reload();
    return key;
  }

  /**
   * The schedule: after reading the directory again, creates the next key (signing KEY_PUBLICATION_LEAD_MS later)
   * when the newest key began signing `maxAgeMs` ago or earlier and no newer one waits. Returns the new key, if any.
   */
  rotateIfDue(maxAgeMs: number, now: number = Date.now()): SigningKey | undefined {
    this.reload();
    const newest = this.keys[this.keys.length - 1];
    if (newest.activeFrom > now || now - newest.activeFrom < maxAgeMs) return undefined;
    return this.rotate(now + KEY_PUBLICATION_LEAD_MS);
  }

  /**
   * RFC 7517 key set of the public halves only: every key, retired and waiting ones included. Reads the directory
   * again first if it changed (reloadIfChanged): a key just made by `arbor keys rotate` is published at the next request.
   */
  jwks(): { keys: SigningKey['publicJwk'][] } {
    this.reloadIfChanged();
    return { keys: this.keys.map((k) => k.publicJwk) };
  }
}

/**
 * The public key set of the keys under `<dataDir>/keys`, read without creating, moving or re-moding anything (for
 * tools reading beside a running server). Empty when there are none.
 */
export function readPublicJwks(dataDir: string): { keys: SigningKey['publicJwk'][] } {
  const dir = join(dataDir, 'keys');
  if (!existsSync(dir)) return { keys: [] };
  return {
    keys: listKeyFiles(dir).map((f) => publicJwkOf(publicKeyOfFile(join(dir, f)))),
  };
}

/** The newest key whose `activeFrom` is at or before `now`; the oldest key when none is. */
function currentOf(keys: readonly SigningKey[], now: number): SigningKey {
  for (let i = keys.length - 1; i > 0; i--) if (keys[i].activeFrom <= now) return keys[i];
  return keys[0];
}

const RESCAN_INTERVAL_MS = 1000;

/** The longest a ring with a watcher goes without checking its directory (see reloadIfChanged). */
const CHECK_INTERVAL_MS = 1000;

const KEY_FILE = /^signing-(\d+)-[a-f0-9]+\.pem$/;

// File names sort by `activeFrom` (15 digits, zero-padded), so the last one is the newest key.
/** How long after a change of the key directory its file names are compared on every use (see reloadIfChanged). */
const MTIME_SETTLE_MS = 2_000;

function listKeyFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => KEY_FILE.test(f))
    .sort();
}

/** Writes a new key signing from `activeFrom`; returns its file name. */
function createKeyFile(dir: string, activeFrom: number): string {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const pem = privateKey.export({ format: 'pem', type: 'pkcs8' }) as string;
  const name = `signing-${String(Math.floor(activeFrom)).padStart(15, '0')}-${createHash('sha256').update(pem).digest('hex').slice(0, 8)}.pem`;
  // Write then rename: a crash never leaves a half-written key that a later start would choke on.
  const tmp = join(dir, `.${name}.tmp`);
  writeFileSync(tmp, pem, { mode: 0o600, flag: 'wx' });
  renameSync(tmp, join(dir, name));
  return name;
}

const publicKeyOfFile = (file: string): KeyObject => createPublicKey(createPrivateKey(readFileSync(file, 'utf8')));

const thumbprintOfFile = (file: string): string => publicJwkOf(publicKeyOfFile(file)).kid;

/** The JWKS entry of a public key, its kid the RFC 7638 thumbprint. */
function publicJwkOf(publicKey: KeyObject): SigningKey['publicJwk'] {
  const jwk = publicKey.export({ format: 'jwk' });
  return { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y, kid: thumbprint(jwk), alg: 'ES256', use: 'sig' };
}

function loadKey(file: string): SigningKey {
  if (!existsSync(file)) throw new Error(`Signing key ${file} disappeared`);
  chmodSync(file, 0o600);
  const privateKey = createPrivateKey(readFileSync(file, 'utf8'));
  const publicKey = createPublicKey(privateKey);
  const publicJwk = publicJwkOf(publicKey);
  return {
    kid: publicJwk.kid,
    alg: 'ES256',
    privateKey,
    publicKey,
    publicJwk,
    activeFrom: Number(KEY_FILE.exec(basename(file))?.[1] ?? 0),
  };
}

/** RFC 7638 JWK thumbprint: a kid that any party can recompute from the public key. */
function thumbprint(jwk: JsonWebKey): string {
  const canonical = JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y });
  return createHash('sha256').update(canonical).digest('base64url');
}
