import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { pooledRandomBytes, type SealedPersonalData } from '@arbor/domain';
import type { PersonalData } from '../ports/read-models';
import type { SecretVault } from '../ports/secret-vault';

const VERSION = 'v1';
/** See PersonalDataCipher.sealingKeys. */
const SEALING_KEY_TTL_MS = 5_000;
/** Actors within the TTL. lru-cache allocates every slot up front: 10,000 added ~7 MB to each process at ready. */
const SEALING_KEYS = 1_000;

interface SealingKeys {
  keys: LRUCache<string, Buffer>;
  /** Counts `forget` calls, so that a read under way during one does not cache what it read. */
  forgotten: number;
}
const sealingKeysByVault = new WeakMap<SecretVault, SealingKeys>();

/**
 * Seals personal data under a key of its own per subject (AES-256-GCM, the subject id as associated data, so
 * a sealed value cannot be moved to another subject). The keys live in the SecretVault, never in the log:
 * destroying one makes every copy of that subject's data in the history unreadable ("crypto-shredding"),
 * while the log itself stays intact and replayable.
 *
 * Sealed form: `v1.<iv>.<ciphertext + 16-byte tag>`, both parts base64url, the plaintext UTF-8 JSON. `seal`
 * and `open` carry the `{email, name}` record of the log; `sealValue` and `openValue` any JSON value that is
 * a subject's personal data (a stored response showing their email, say), in the same form under the same key.
 */
export class PersonalDataCipher {
  /**
   * Subjects' keys read in the last SEALING_KEY_TTL_MS for `sealRequestRecord`: every write and password sign-in seals
   * its request metadata under the actor's key, and that vault read was 2.5% of an organization creation's CPU. Shared
   * by every cipher over the same vault object in this process (the command service's and the sign-in audit's), so
   * that `forget` reaches them all. Only that sealing uses them; opening always reads the vault, so whatever an erasure
   * destroyed reads as erased at once, in every process. Another process's cache may seal with a destroyed key for at
   * most the TTL what nobody can open then (an erased user's requests are refused at authentication before anything
   * is sealed for them); expired keys leave memory when the TTL ends (`ttlAutopurge`: a timer per miss, not per seal).
   */
  private readonly sealingKeys: SealingKeys;

  constructor(private readonly vault: SecretVault) {
    let shared = sealingKeysByVault.get(vault);
    if (shared === undefined) {
      shared = {
        keys: new LRUCache<string, Buffer>({ max: SEALING_KEYS, ttl: SEALING_KEY_TTL_MS, ttlAutopurge: true }),
        forgotten: 0,
      };
      sealingKeysByVault.set(vault, shared);
    }
    this.sealingKeys = shared;
  }

  /**
   * Drops the subject's key from what this process seals with, for every cipher over this vault (call after
   * destroying it).
   */
  forget(subjectId: string): void {
    this.sealingKeys.keys.delete(subjectId);
    this.sealingKeys.forgotten++;
  }

  /** Seals `{email, name}` under the subject's key, creating the key if the subject has none yet. */
  async seal(subjectId: string, data: PersonalData): Promise<SealedPersonalData> {
    return this.sealValue(subjectId, { email: data.email, name: data.name });
  }

  /**
   * Seals `{email, name}` only under a key the subject already has: null when they have none (erased). What a
   * change to an existing subject must use, so that it never gives an erased subject a fresh key and data.
   */
  async reseal(subjectId: string, data: PersonalData): Promise<SealedPersonalData | null> {
    return this.sealValueUnderExistingKey(subjectId, { email: data.email, name: data.name });
  }

  /** The data, or null when the subject's key has been destroyed (the subject reads as erased). */
  async open(subjectId: string, sealed: SealedPersonalData): Promise<PersonalData | null> {
    return this.openWith(await this.vault.getDataKey(subjectId), subjectId, sealed) as PersonalData | null;
  }

  /**
   * Opens many at once with one vault read: what catch-up and projection do with thousands of events.
   * The result maps each item's index to its data (null when erased).
   */
  async openMany(items: Array<{ subjectId: string; sealed: SealedPersonalData }>): Promise<Array<PersonalData | null>> {
    if (items.length === 0) return [];
    const keys = await this.vault.getDataKeys([...new Set(items.map((i) => i.subjectId))]);
    return items.map((i) => this.openWith(keys.get(i.subjectId), i.subjectId, i.sealed) as PersonalData | null);
  }

  /** Seals any JSON value (`undefined` is not one) under the subject's key, creating the key if absent. */
  async sealValue(subjectId: string, value: unknown): Promise<string> {
    return sealWith(await this.vault.ensureDataKey(subjectId, randomBytes(32)), subjectId, value);
  }

  /** Seals any JSON value under the subject's existing key; null when the subject has no key (erased or unknown). */
  async sealValueUnderExistingKey(subjectId: string, value: unknown): Promise<string | null> {
    const key = await this.vault.getDataKey(subjectId);
    return key ? sealWith(key, subjectId, value) : null;
  }

  /**
   * As `sealValueUnderExistingKey`, with the key this process read within SEALING_KEY_TTL_MS if any (see
   * `sealingKeys`): for what every request records of its actor (request metadata, a sign-in's origin), never for a
   * decision that hinges on whether the subject still has a key.
   */
  async sealRequestRecord(subjectId: string, value: unknown): Promise<string | null> {
    const cache = this.sealingKeys;
    let key = cache.keys.get(subjectId);
    if (key === undefined) {
      const forgotten = cache.forgotten;
      key = await this.vault.getDataKey(subjectId);
      if (key === undefined) return null;
      // A key read before a `forget` that came during the read is not kept: it may be the one just destroyed.
      if (cache.forgotten === forgotten) cache.keys.set(subjectId, key);
    }
    return sealWith(key, subjectId, value);
  }

  /**
   * The value exactly as sealed (a JSON round trip), or null when the subject's key has been destroyed.
   * Throws when the sealed text is malformed, was sealed for another subject or was tampered with.
   */
  async openValue(subjectId: string, sealed: string): Promise<unknown> {
    return this.openWith(await this.vault.getDataKey(subjectId), subjectId, sealed);
  }

  private openWith(key: Buffer | undefined, subjectId: string, sealed: string): unknown {
    if (!key) return null;
    const [version, ivText, bodyText] = sealed.split('.');
    if (version !== VERSION || !ivText || !bodyText) throw new Error(`Unsupported sealed data format for ${subjectId}`);
    const body = Buffer.from(bodyText, 'base64url');
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(ivText, 'base64url'));
    decipher.setAAD(Buffer.from(subjectId, 'utf8'));
    decipher.setAuthTag(body.subarray(body.length - 16));
    const plain = Buffer.concat([decipher.update(body.subarray(0, body.length - 16)), decipher.final()]);
    return JSON.parse(plain.toString('utf8'));
  }
}

function sealWith(key: Buffer, subjectId: string, value: unknown): string {
  const json = JSON.stringify(value);
  if (json === undefined) throw new TypeError('Only JSON values can be sealed.');
  // AES-GCM needs a nonce never used twice with the key: 96 random bits (NIST SP 800-38D 8.2.2), not secret.
  const iv = pooledRandomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(subjectId, 'utf8'));
  const sealed = Buffer.concat([cipher.update(json, 'utf8'), cipher.final(), cipher.getAuthTag()]);
  return `${VERSION}.${iv.toString('base64url')}.${sealed.toString('base64url')}`;
}
