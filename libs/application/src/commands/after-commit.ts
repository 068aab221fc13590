import { isKnownEvent, type StoredEvent } from '@arbor/domain';
import type { Logger } from '../logger';
import type { SecretVault } from '../ports/secret-vault';
import type { PersonalDataCipher } from '../security/personal-data-cipher';

/**
 * Delays in milliseconds between the attempts of after-commit work that failed; the last one repeats until the
 * work succeeds or the service closes.
 */
export const AFTER_COMMIT_RETRY_MS: readonly number[] = [100, 1_000, 5_000, 30_000];

/** One piece of what a committed event still owes the vault: `work` names it in logs, `id` is what it is about. */
export interface AfterCommitTask {
  work: 'delete-client-secret' | 'delete-webhook-secrets' | 'promote-webhook-secret' | 'erase-user-secrets';
  id: string;
  /** Idempotent: it may run again after a failure part-way, in this process or at the next start. */
  run: () => Promise<void>;
}

/**
 * An erased user's secrets: the data key goes first (every sealed copy of their email and name then reads as
 * erased), the cipher's cached copy of it with it, then the password hash.
 */
export async function eraseUserSecrets(vault: SecretVault, cipher: PersonalDataCipher, userId: string): Promise<void> {
  try {
    await vault.destroyDataKey(userId);
  } finally {
    // Even when the destruction failed part-way (its row gone, the WAL truncation after it refused).
    cipher.forget(userId);
  }
  await vault.deletePasswordHash(userId);
}

/**
 * What the vault must do once `events` are committed, in their order: secrets of things that ended go (a rollback
 * must not lose them, so not before), a rotated webhook secret starts signing, an erased user's data key and password
 * hash go. Events without such work give nothing.
 */
export function afterCommitTasks(
  events: readonly StoredEvent[],
  vault: SecretVault,
  cipher: PersonalDataCipher,
): AfterCommitTask[] {
  const tasks: AfterCommitTask[] = [];
  for (const event of events) {
    if (!isKnownEvent(event)) continue;
    if (event.type === 'ClientCredentialRevoked') {
      const id = event.data.clientCredentialId;
      tasks.push({ work: 'delete-client-secret', id, run: () => vault.deleteClientSecretHash(id) });
    }
    if (event.type === 'WebhookSecretRotated') {
      const { subscriptionId, previousSecretExpiresAt } = event.data;
      // Promoting a rotation that a later one has already superseded does nothing (SecretVault), so a late retry
      // cannot bring an older secret back.
      tasks.push({
        work: 'promote-webhook-secret',
        id: subscriptionId,
        run: () => vault.promoteWebhookSecret(subscriptionId, previousSecretExpiresAt),
      });
    }
    if (event.type === 'WebhookSubscriptionDeleted') {
      const id = event.data.subscriptionId;
      tasks.push({ work: 'delete-webhook-secrets', id, run: () => vault.deleteWebhookSecrets(id) });
    }
    if (event.type === 'UserErased') {
      const id = event.data.userId;
      tasks.push({ work: 'erase-user-secrets', id, run: () => eraseUserSecrets(vault, cipher, id) });
    }
  }
  return tasks;
}

/**
 * Runs after-commit work so that its failure never becomes the command's: the commit is the fact, and answering
 * it with an error would have the caller retry a write that happened, while the events would wait unpublished.
 * A failed task is logged (its work and id; never a secret) and tried again after AFTER_COMMIT_RETRY_MS, in this
 * process, until it succeeds or `close`; `CommandService.start` redoes every such task from the log after a crash
 * or a close, so none is lost.
 */
export class AfterCommitRunner {
  private readonly timers = new Set<ReturnType<typeof setTimeout>>();
  /** Attempts under way, so that `close` waits for them before the caller closes the vault under them. */
  private readonly running = new Set<Promise<void>>();
  private closed = false;

  constructor(
    private readonly log: Logger,
    private readonly retryMs: readonly number[] = AFTER_COMMIT_RETRY_MS,
  ) {}

  /** Runs the tasks one after the other; resolves once each succeeded or has a retry scheduled. Never rejects. */
  async run(tasks: readonly AfterCommitTask[]): Promise<void> {
    for (const task of tasks) await this.track(task, 1);
  }

  /** Tasks that failed and wait for a retry. */
  get pending(): number {
    return this.timers.size;
  }

  /**
   * Waits for the attempts under way, then drops the scheduled retries: their work is logged as left to the next
   * start (which redoes it from the log), and failures from now on are not retried.
   */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.running]);
    if (this.timers.size > 0) this.log.warn('after-commit work left for the next start', { tasks: this.timers.size });
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }

  private track(task: AfterCommitTask, attempt: number): Promise<void> {
    const running = this.attempt(task, attempt);
    this.running.add(running);
    return running.finally(() => this.running.delete(running));
  }

  private async attempt(task: AfterCommitTask, attempt: number): Promise<void> {
    try {
      await task.run();
      if (attempt > 1) this.log.info('after-commit work done on a retry', { work: task.work, id: task.id, attempt });
    } catch (error) {
      if (this.closed) {
        this.log.warn('after-commit work failed while closing; left for the next start', {
          work: task.work,
          id: task.id,
          error: String(error),
        });
        return;
      }
      const retryInMs = this.retryMs[Math.min(attempt - 1, this.retryMs.length - 1)] ?? 1_000;
      this.log.error('committed, but its after-commit work failed; retrying', {
        work: task.work,
        id: task.id,
        attempt,
        retryInMs,
        error: String(error),
      });
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        if (!this.closed) void this.track(task, attempt + 1);
      }, retryInMs);
      timer.unref();
      this.timers.add(timer);
    }
  }
}
