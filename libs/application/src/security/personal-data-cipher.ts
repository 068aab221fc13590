import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { SealedPersonalData } from '@arbor/domain';
import type { PersonalData } from '../ports/read-models';
import type { SecretVault } from '../ports/secret-vault';

const VERSION = 'v1';

/**
 * Seals personal data under a key of its own per subject (AES-256-GCM, the subject id as associated data, so
 * a sealed value cannot be moved to another subject). The keys live in the SecretVault, never in the log:
 * destroying one makes every copy of that subject's data in the history unreadable ("crypto-shredding"),
 * while the log itself stays intact and replayable.
 */
export class PersonalDataCipher {
  constructor(private readonly vault: SecretVault) {}

  async seal(subjectId: string, data: PersonalData): Promise<SealedPersonalData> {
    const key = await this.vault.ensureDataKey(subjectId, randomBytes(32));
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    cipher.setAAD(Buffer.from(subjectId, 'utf8'));
    const plain = Buffer.from(JSON.stringify({ email: data.email, name: data.name }), 'utf8');
    const sealed = Buffer.concat([cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
    return `${VERSION}.${iv.toString('base64url')}.${sealed.toString('base64url')}`;
  }

  /** The data, or null when the subject's key has been destroyed (the subject reads as erased). */
  async open(subjectId: string, sealed: SealedPersonalData): Promise<PersonalData | null> {
    return this.openWith(await this.vault.getDataKey(subjectId), subjectId, sealed);
  }

  /**
   * Opens many at once with one vault read: what catch-up and projection do with thousands of events.
   * The result maps each item's index to its data (null when erased).
   */
  async openMany(items: Array<{ subjectId: string; sealed: SealedPersonalData }>): Promise<Array<PersonalData | null>> {
    if (items.length === 0) return [];
    const keys = await this.vault.getDataKeys([...new Set(items.map((i) => i.subjectId))]);
    return items.map((i) => this.openWith(keys.get(i.subjectId), i.subjectId, i.sealed));
  }

  private openWith(key: Buffer | undefined, subjectId: string, sealed: SealedPersonalData): PersonalData | null {
    if (!key) return null;
    const [version, ivText, bodyText] = sealed.split('.');
    if (version !== VERSION || !ivText || !bodyText) throw new Error(`Unsupported sealed data format for ${subjectId}`);
    const body = Buffer.from(bodyText, 'base64url');
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(ivText, 'base64url'));
    decipher.setAAD(Buffer.from(subjectId, 'utf8'));
    decipher.setAuthTag(body.subarray(body.length - 16));
    const plain = Buffer.concat([decipher.update(body.subarray(0, body.length - 16)), decipher.final()]);
    return JSON.parse(plain.toString('utf8')) as PersonalData;
  }
}
