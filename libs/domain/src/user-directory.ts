import type { StoredEvent } from './events';
import { unhandledEventType } from './event-catalogue';
import { isKnownEvent } from './events';
import { caselessKey } from './caseless';

export interface UserEntry {
  id: string;
  /**
   * The position of the event (UserCreated or UserUpdated) that carries the user's current personal data,
   * sealed under their own key: the model keeps no copy of it, not even sealed, and a command that needs it
   * (a rename re-seals `{email, name}`) reads and opens that event. Null once erased.
   */
  personalAt: number | null;
  /**
   * The user's entry in the email index: a keyed digest of `emailKey(email)` made by the caller (never the
   * email itself). Null once erased, which frees the email.
   */
  emailIndex: string | null;
  status: 'active' | 'disabled' | 'erased';
  platformAdmin: boolean;
  version: number;
}

/** Users as columns (see OrgTreeSnapshot); statuses as indexes into USER_STATUSES. No personal data in clear. */
export interface UserDirectorySnapshot {
  ids: string[];
  personalAt: Array<number | null>;
  emailIndex: Array<string | null>;
  statuses: number[];
  versions: number[];
  /** Indexes of the platform admins. */
  platformAdmins: number[];
}

const USER_STATUSES: ReadonlyArray<UserEntry['status']> = ['active', 'disabled', 'erased'];

/** Emails are unique up to Unicode canonical caseless matching (see `caselessKey`): compare (and index) this key. */
export const emailKey = (email: string): string => caselessKey(email.trim());

/**
 * The command side's view of users, folded from the log: enough to keep emails unique (case-insensitively),
 * to find a user's current personal data when one field changes, and to know whether a platform admin
 * exists. It holds no personal data: the caller opens each sealed record it folds and passes in the email's
 * index entry (a keyed digest of `emailKey`), or null when the record cannot be opened (its key destroyed).
 */
export class UserDirectory {
  private readonly users = new Map<string, UserEntry>();
  private readonly byEmailIndex = new Map<string, string>();
  /**
   * Users whose email index entry another user holds in `byEmailIndex`: only in logs written before emails
   * were compared by full case folding (`straße@x` beside `STRASSE@x`). Replay keeps both accounts; the email
   * stays taken while either holds it (one of them takes the index over when the holder leaves it), and the
   * deciders refuse every new collision. Empty otherwise.
   */
  private readonly sharedEmailIndex = new Map<string, string[]>();

  get size(): number {
    return this.users.size;
  }

  get(id: string): UserEntry | undefined {
    return this.users.get(id);
  }

  /** The user whose email has this index entry (see `apply`), if any who is not erased. */
  idForEmailIndex(emailIndex: string): string | undefined {
    return this.byEmailIndex.get(emailIndex);
  }

  hasPlatformAdmin(): boolean {
    return this.platformAdminId() !== undefined;
  }

  /** The platform admins who can still sign in (neither disabled nor erased): O(users), for rare commands. */
  activePlatformAdminIds(): string[] {
    const ids: string[] = [];
    for (const u of this.users.values()) if (u.platformAdmin && u.status === 'active') ids.push(u.id);
    return ids;
  }

  /** Users erased (by UserErased, or whose data key was found gone): O(users), for start-up only. */
  erasedIds(): string[] {
    const ids: string[] = [];
    for (const u of this.users.values()) if (u.status === 'erased') ids.push(u.id);
    return ids;
  }

  /** The platform admin (the bootstrap creates exactly one), if any. */
  platformAdminId(): string | undefined {
    for (const u of this.users.values()) if (u.platformAdmin) return u.id;
    return undefined;
  }

  /**
   * Folds one event. For UserCreated and UserUpdated, `emailIndex` is the index entry of the email in the
   * event's sealed record, or null when that record cannot be opened: the user is then erased.
   */
  apply(event: StoredEvent, emailIndex: string | null): void {
    if (!isKnownEvent(event)) return;
    switch (event.type) {
      case 'UserCreated':
        this.users.set(event.data.userId, {
          id: event.data.userId,
          personalAt: null,
          emailIndex: null,
          status: 'active',
          platformAdmin: event.data.platformAdmin,
          version: event.streamVersion,
        });
        this.setPersonal(event.data.userId, event.position, emailIndex);
        return;
      case 'UserUpdated': {
        const user = this.users.get(event.data.userId);
        if (!user) return;
        user.version = event.streamVersion;
        this.setPersonal(user.id, event.position, emailIndex);
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
      case 'UserErased': {
        const user = this.users.get(event.data.userId);
        if (!user) return;
        user.version = event.streamVersion;
        this.setPersonal(user.id, null, null);
        return;
      }
      case 'UserPasswordChanged':
      case 'UserPasswordSet': {
        // The hash lives in the vault; the model only keeps the user's version current.
        const user = this.users.get(event.data.userId);
        if (user) user.version = event.streamVersion;
        return;
      }
      // Organizations, memberships and clients are not the directory's concern.
      case 'OrgCreated':
      case 'OrgUpdated':
      case 'OrgMoved':
      case 'OrgDeleted':
      case 'OrgAuditRetentionSet':
      case 'RequestMetadataDropped':
      case 'UserAddedToOrg':
      case 'MembershipConfirmed':
      case 'OrgUserUpdated':
      case 'UserRemovedFromOrg':
      case 'ClientCredentialIssued':
      case 'ClientCredentialRolesChanged':
      case 'ClientCredentialRevoked':
      case 'ApplicationPermissionDefined':
      case 'ApplicationPermissionUpdated':
      case 'ApplicationPermissionDeleted':
      case 'RoleDefined':
      case 'RoleUpdated':
      case 'RoleDeleted':
      case 'WebhookSubscriptionCreated':
      case 'WebhookSubscriptionUpdated':
      case 'WebhookSecretRotated':
      case 'WebhookSubscriptionDisabled':
      case 'WebhookSubscriptionEnabled':
      case 'WebhookReplayRequested':
      case 'WebhookSubscriptionDeleted':
        return;
      default:
        return unhandledEventType(event);
    }
  }

  /**
   * Records what the caller found out after folding: the user's personal data can no longer be opened (their
   * key was destroyed). The same as folding their events again would give, so a model stays equal to one
   * folded from the whole log against the same vault.
   */
  markErased(userId: string): void {
    if (this.users.has(userId)) this.setPersonal(userId, null, null);
  }

  /** Every user as plain data: ids, positions, digests, statuses; nothing personal in clear. */
  toSnapshot(): UserDirectorySnapshot {
    const snapshot: UserDirectorySnapshot = {
      ids: [],
      personalAt: [],
      emailIndex: [],
      statuses: [],
      versions: [],
      platformAdmins: [],
    };
    for (const u of this.users.values()) {
      if (u.platformAdmin) snapshot.platformAdmins.push(snapshot.ids.length);
      snapshot.ids.push(u.id);
      snapshot.personalAt.push(u.personalAt);
      snapshot.emailIndex.push(u.emailIndex);
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
      const emailIndex = snapshot.emailIndex[i];
      const status = USER_STATUSES[snapshot.statuses[i]];
      if (status === undefined) throw new Error(`UserDirectory snapshot: unknown status of ${id}.`);
      directory.users.set(id, {
        id,
        personalAt: snapshot.personalAt[i],
        emailIndex,
        status,
        platformAdmin: admins.has(i),
        version: snapshot.versions[i],
      });
      if (emailIndex !== null) directory.indexEmail(emailIndex, id);
    }
    return directory;
  }

  private setPersonal(userId: string, position: number | null, emailIndex: string | null): void {
    const user = this.users.get(userId)!;
    if (user.emailIndex !== null) this.unindexEmail(user.emailIndex, userId);
    if (emailIndex === null || position === null) {
      user.personalAt = null;
      user.emailIndex = null;
      user.status = 'erased';
      return;
    }
    user.personalAt = position;
    user.emailIndex = emailIndex;
    this.indexEmail(emailIndex, userId);
  }

  private indexEmail(emailIndex: string, userId: string): void {
    const holder = this.byEmailIndex.get(emailIndex);
    if (holder === undefined || holder === userId) this.byEmailIndex.set(emailIndex, userId);
    else this.sharedEmailIndex.set(emailIndex, [...(this.sharedEmailIndex.get(emailIndex) ?? []), userId]);
  }

  private unindexEmail(emailIndex: string, userId: string): void {
    const shared = this.sharedEmailIndex.get(emailIndex);
    if (this.byEmailIndex.get(emailIndex) === userId) {
      if (shared === undefined) this.byEmailIndex.delete(emailIndex);
      else this.byEmailIndex.set(emailIndex, shared[0]);
      if (shared !== undefined) this.setShared(emailIndex, shared.slice(1));
    } else if (shared !== undefined) {
      this.setShared(
        emailIndex,
        shared.filter((id) => id !== userId),
      );
    }
  }

  private setShared(emailIndex: string, ids: string[]): void {
    if (ids.length === 0) this.sharedEmailIndex.delete(emailIndex);
    else this.sharedEmailIndex.set(emailIndex, ids);
  }
}
