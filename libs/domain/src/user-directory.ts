import type { StoredEvent } from './events';
import { isKnownEvent } from './events';

export interface UserEntry {
  id: string;
  /** Case-insensitive email key; null once the user's personal data has been erased. */
  emailKey: string | null;
  platformAdmin: boolean;
  version: number;
}

export const emailKey = (email: string): string => email.normalize('NFC').trim().toLowerCase();

/**
 * The command side's view of users, folded from the log: enough to keep emails unique and to know whether
 * a platform admin exists. Emails are sealed in the log, so the caller opens them and passes the key in.
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

  apply(event: StoredEvent, openedEmail: string | null): void {
    if (!isKnownEvent(event)) return;
    if (event.type === 'UserCreated') {
      const key = openedEmail === null ? null : emailKey(openedEmail);
      this.users.set(event.data.userId, {
        id: event.data.userId,
        emailKey: key,
        platformAdmin: event.data.platformAdmin,
        version: event.streamVersion,
      });
      if (key !== null) this.byEmail.set(key, event.data.userId);
    }
  }
}
