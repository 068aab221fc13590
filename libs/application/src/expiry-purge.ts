import { IDEMPOTENCY_TTL_MS } from './commands/command-service';
import type { Logger } from './logger';
import type { EventStore } from './ports/event-store';
import type { TokenStore } from './ports/token-store';

/** How long events keep their request metadata by default, in days (IAM_AUDIT_RETENTION_DAYS). */
export const DEFAULT_AUDIT_RETENTION_DAYS = 365;

/** How often expired records are dropped, in milliseconds (and once at start). */
export const EXPIRY_PURGE_INTERVAL_MS = 3600_000;

/**
 * Drops what has expired and no longer matters, and must not stay at rest: refresh tokens past `expiresAt`
 * (and families left without tokens), revocations of access tokens past their expiry (TokenStore
 * purgeExpired), and idempotency records older than IDEMPOTENCY_TTL_MS (EventStore purgeIdempotency). Runs
 * once now and every `everyMs` (default hourly) until the returned `stop`; failures are logged as warnings
 * and retried on the next round. The deletes are idempotent, so any number of processes may run it: the
 * embedded process does, and in the distributed profile every command service (the process that owns the
 * writes; gateways only read and revoke).
 */
export function startExpiryPurge(stores: {
  tokenStore: TokenStore;
  eventStore: EventStore;
  log: Logger;
  everyMs?: number;
  /**
   * IAM_AUDIT_RETENTION_DAYS: how long events keep their request metadata (issue 14 item 7; default 365, 0: for
   * ever). Older metadata is dropped (EventStore.dropRequestMetadata) on each round; its digest stays in the chain.
   */
  auditRetentionDays?: number;
  /** The clock (ms since the epoch), for tests. */
  now?: () => number;
}): { stop(): void } {
  const { tokenStore, eventStore, log } = stores;
  const now = stores.now ?? Date.now;
  const retentionDays = stores.auditRetentionDays ?? DEFAULT_AUDIT_RETENTION_DAYS;
  const purge = () => {
    if (retentionDays > 0)
      eventStore
        .dropRequestMetadata(new Date(now() - retentionDays * 86_400_000).toISOString())
        .then((dropped) => {
          if (dropped > 0) log.info('request metadata past its retention dropped', { events: dropped, retentionDays });
        })
        .catch((e) => log.warn('audit retention failed', { error: String(e) }));
    tokenStore
      .purgeExpired(new Date(now()).toISOString())
      .catch((e) => log.warn('token purge failed', { error: String(e) }));
    eventStore
      .purgeIdempotency(new Date(now() - IDEMPOTENCY_TTL_MS).toISOString())
      .catch((e) => log.warn('idempotency purge failed', { error: String(e) }));
  };
  purge();
  const timer = setInterval(purge, stores.everyMs ?? EXPIRY_PURGE_INTERVAL_MS);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
