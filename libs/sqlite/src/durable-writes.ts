import { retryWhileBusy } from './busy-retry';
import type { WalSync } from './wal-sync';

/**
 * The writes and reads of a store whose connection commits under `synchronous = NORMAL` and was set up by
 * `refuseBusyWaits` (the token store, the vault): each write is retried while another process holds the lock and
 * resolved once a shared fdatasync of the WAL has ended (WalSync); a write is refused before it starts once an
 * fdatasync has failed (what that covered may be lost). `close` waits for the writes in progress, so that none is
 * committed and left unsynced (a spend nobody was told of), then closes the WalSync.
 */
export class DurableWrites {
  /** Writes begun and not yet settled. */
  private readonly writing = new Set<Promise<unknown>>();

  /** `assertOpen` throws once the store is closed. */
  constructor(
    private readonly sync: WalSync,
    private readonly assertOpen: () => void,
  ) {}

  /** One write (`attempt`: a statement or a transaction, all or nothing, so it may run again); its value once durable. */
  write<T>(attempt: () => T): Promise<T> {
    this.assertOpen();
    if (this.sync.failed) return Promise.reject(this.sync.failed);
    const done = (async () => {
      const value = await retryWhileBusy(attempt);
      await this.sync.committed();
      return value;
    })();
    this.writing.add(done);
    const forget = () => void this.writing.delete(done);
    done.then(forget, forget);
    return done;
  }

  /** One read, retried while busy (rare in WAL mode: another process's recovery); refused once closed. */
  read<T>(attempt: () => T): Promise<T> {
    this.assertOpen();
    return retryWhileBusy(() => {
      this.assertOpen();
      return attempt();
    });
  }

  /** Waits for the writes in progress, then closes the WalSync; the caller closes the connection after. */
  async close(): Promise<void> {
    await Promise.allSettled(this.writing);
    await this.sync.close();
  }
}
