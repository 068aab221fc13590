import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import type {
  MembershipIndexSnapshot,
  OrgTreeSnapshot,
  RoleIndexSnapshot,
  UserDirectorySnapshot,
  WebhookIndexSnapshot,
} from '@arbor/domain';
import type { SecretVault } from '../ports/secret-vault';
import { restrictExistingFiles } from '../security/private-files';

/**
 * Bump when the model's shape or meaning changes: older snapshots are then refused, not misread. Format 4
 * holds no personal data in clear (format 3 held opened emails and names): users carry the position of
 * their sealed record in the log and a keyed digest of their email. Format 5: a membership's version counts
 * its own changes from 1 (format 4 held its stream's version, which goes on across a removal and re-add), and
 * the email digest is of the email's full case fold (`caselessKey`), no longer of its lower case. Format 6:
 * the custom role and application-permission definitions (`roles`, issue 13). Format 7: the webhook
 * subscriptions (`webhooks`, issue 14 item 6). Format 8: the same shape, but a format-7 snapshot taken after an
 * `OrgAuditRetentionSet` may lack that organization's members and clients (the fold once took the event for the
 * organization's deletion), so it is refused and the model folded again from the log.
 */
export const SNAPSHOT_FORMAT = 'arbor-command-model/8';

/** The command side's in-memory model at one position of the log. */
export interface CommandModelSnapshot {
  format: typeof SNAPSHOT_FORMAT;
  position: number;
  /** The id of the event at `position` (null at 0): a snapshot of another log does not match this one. */
  lastEventId: string | null;
  orgs: OrgTreeSnapshot;
  users: UserDirectorySnapshot;
  memberships: MembershipIndexSnapshot;
  roles: RoleIndexSnapshot;
  webhooks: WebhookIndexSnapshot;
  /** Only the versions the state does not hold (see CommandModel). */
  streamVersions: Array<[string, number]>;
}

/** Where the command service keeps its snapshot. A cache: losing it only costs a full replay at start. */
export interface CommandModelSnapshotStore {
  /** Undefined when there is none; throws when there is one that cannot be used (unreadable, another format). */
  load(): Promise<CommandModelSnapshot | undefined>;
  save(snapshot: CommandModelSnapshot): Promise<void>;
  discard(): Promise<void>;
}

const KEY_ID = 'system:command-model-snapshot';
const MAGIC = Buffer.from('ARBORSNAP1', 'ascii');

/**
 * The snapshot in one file (mode 0600), sealed with AES-256-GCM under a key kept in the vault. The model
 * holds no personal data in clear (emails only as keyed digests, names not at all), so erasing a subject
 * by destroying their key needs nothing done here; the file's own seal keeps the organization tree and the
 * digests from anyone without the vault. Written to a temporary file, fsynced, then renamed over the old
 * one, so a crash leaves either the old or the new snapshot, never a torn one.
 */
export class SealedSnapshotFile implements CommandModelSnapshotStore {
  constructor(
    private readonly path: string,
    private readonly vault: SecretVault,
  ) {}

  async load(): Promise<CommandModelSnapshot | undefined> {
    let file: Buffer;
    try {
      file = readFileSync(this.path);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
    // A file left wider by an older version (or a copy) is narrowed even if it is never rewritten.
    restrictExistingFiles([this.path]);
    const key = await this.vault.getDataKey(KEY_ID);
    if (!key) return undefined;
    if (file.length < MAGIC.length + 28 || !file.subarray(0, MAGIC.length).equals(MAGIC))
      throw new Error('not a command-model snapshot');
    const iv = file.subarray(MAGIC.length, MAGIC.length + 12);
    const tag = file.subarray(MAGIC.length + 12, MAGIC.length + 28);
    const decipher = createDecipheriv('aes-256-gcm', key, iv);
    decipher.setAAD(MAGIC);
    decipher.setAuthTag(tag);
    const plain = Buffer.concat([decipher.update(file.subarray(MAGIC.length + 28)), decipher.final()]);
    const snapshot = JSON.parse(plain.toString('utf8')) as CommandModelSnapshot;
    if (snapshot.format !== SNAPSHOT_FORMAT)
      throw new Error(`command-model snapshot of format ${String(snapshot.format)}, not ${SNAPSHOT_FORMAT}`);
    return snapshot;
  }

  async save(snapshot: CommandModelSnapshot): Promise<void> {
    const key = await this.vault.ensureDataKey(KEY_ID, randomBytes(32));
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    cipher.setAAD(MAGIC);
    const body = Buffer.concat([cipher.update(JSON.stringify(snapshot), 'utf8'), cipher.final()]);
    // Unique per writer: command services sharing a data directory must not write into each other's file.
    const temporary = `${this.path}.${process.pid}.${iv.toString('hex')}.tmp`;
    const fd = openSync(temporary, 'w', 0o600);
    try {
      for (const part of [MAGIC, iv, cipher.getAuthTag(), body]) writeAll(fd, part);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temporary, this.path);
    const dir = openSync(dirname(this.path), 'r');
    try {
      fsyncSync(dir);
    } finally {
      closeSync(dir);
    }
  }

  async discard(): Promise<void> {
    rmSync(this.path, { force: true });
  }
}

function writeAll(fd: number, data: Buffer): void {
  for (let offset = 0; offset < data.length;) offset += writeSync(fd, data, offset);
}
