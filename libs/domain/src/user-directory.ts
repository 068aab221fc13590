import type { StoredEvent } from './events';
import { isKnownEvent } from './events';
import { ASCII } from './org-tree';

export interface UserEntry {
  id: string;
  /** Opened personal data; null once it has been erased (its key destroyed). */
  email: string | null;
  name: string | null;
  status: 'active' | 'disabled' | 'erased';
  platformAdmin: boolean;
  version: number;
}

/** Users as columns (see OrgTreeSnapshot); statuses as indexes into USER_STATUSES. */
export interface UserDirectorySnapshot {
  ids: string[];
  emails: Array<string | null>;
  names: Array<string | null>;
  statuses: number[];
  versions: number[];
  /** Indexes of the platform admins. */
  platformAdmins: number[];
}

const USER_STATUSES: ReadonlyArray<UserEntry['status']> = ['active', 'disabled', 'erased'];

export const emailKey = (email: string): string => (ASCII.test(email) ? email : email.normalize('NFC')).trim().toLowerCase();

/**
 * The command side's view of users, folded from the log: enough to keep emails unique (case-insensitively),
 * to re-seal a user's personal data when one field changes, and to know whether a platform admin exists.
 * Personal data is sealed in the log, so the caller opens it and passes it in.
 */
export class UserDirectory {
  private readonly users = new Map<string, UserEntry>();
  private readonly byEmail = new Map<string, string>();

  get size(): number {
    return this.users.size;
  }

  get(id: string): UserEntry | undefined {
    return this.users.get(id);
  }

  idForEmail(email: string): string | undefined {
    return this.byEmail.get(emailKey(email));
  }

  hasPlatformAdmin(): boolean {
    for (const u of this.users.values()) if (u.platformAdmin) return true;
    return false;
  }

  apply(event: StoredEvent, opened: { email: string; name: string } | null): void {
    if (!isKnownEvent(event)) return;
    switch (event.type) {
      case 'UserCreated':
        this.users.set(event.data.userId, {
          id: event.data.userId,
          email: null,
          name: null,
          status: 'active',
          platformAdmin: event.data.platformAdmin,
          version: event.streamVersion,
        });
        this.setPersonal(event.data.userId, opened);
        return;
      case 'UserUpdated': {
        const user = this.users.get(event.data.userId);
        if (!user) return;
        user.version = event.streamVersion;
        this.setPersonal(user.id, opened);
        return;
      }
      case 'UserDisabled':
      case 'UserEnabled': {
        const user = this.users.get(event.data.userId);
        if (!user) return;
        user.version = event.streamVersion;
        if (user.status !== 'erased') user.status = event.type === 'UserDisabled' ? 'disabled' : 'active';
        return;
      }
      default:
        return;
    }
  }

  /** Every user as plain data (holds opened personal data: whoever persists it must protect it). */
  toSnapshot(): UserDirectorySnapshot {
    const snapshot: UserDirectorySnapshot = { ids: [], emails: [], names: [], statuses: [], versions: [], platformAdmins: [] };
    for (const u of this.users.values()) {
      if (u.platformAdmin) snapshot.platformAdmins.push(snapshot.ids.length);
      snapshot.ids.push(u.id);
      snapshot.emails.push(u.email);
      snapshot.names.push(u.name);
      snapshot.statuses.push(USER_STATUSES.indexOf(u.status));
      snapshot.versions.push(u.version);
    }
    return snapshot;
  }

  static fromSnapshot(snapshot: UserDirectorySnapshot): UserDirectory {
    const directory = new UserDirectory();
    const admins = new Set(snapshot.platformAdmins);
    for (let i = 0; i < snapshot.ids.length; i++) {
      const id = snapshot.ids[i];
      const email = snapshot.emails[i];
      const status = USER_STATUSES[snapshot.statuses[i]];
      if (status === undefined) throw new Error(`UserDirectory snapshot: unknown status of ${id}.`);
      directory.users.set(id, { id, email, name: snapshot.names[i], status, platformAdmin: admins.has(i), version: snapshot.versions[i] });
      // Emails are unique among users (the deciders' rule), so the index is exactly the live emails.
      if (email !== null) directory.byEmail.set(emailKey(email), id);
    }
    return directory;
  }

  private setPersonal(userId: string, opened: { email: string; name: string } | null): void {
    const user = this.users.get(userId)!;
    if (user.email !== null && this.byEmail.get(emailKey(user.email)) === userId) this.byEmail.delete(emailKey(user.email));
    if (opened === null) {
      user.email = null;
      user.name = null;
      user.status = 'erased';
      return;
    }
    user.email = opened.email;
    user.name = opened.name;
    this.byEmail.set(emailKey(opened.email), userId);
  }
}
