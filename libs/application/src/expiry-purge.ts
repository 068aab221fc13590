import { IDEMPOTENCY_TTL_MS } from './commands/command-service';
import { AuditRetentionSettings, retentionCutoffs } from './audit-retention-policy';
import type { Logger } from './logger';
import type { EventStore } from './ports/event-store';
import type { SignInAuditStore } from './ports/sign-in-audit-store';
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
   * Organizations may shorten it for their subtree (OrgAuditRetentionSet, read from the log each round): the
   * shortest of the server's and the settings on an event's organization path applies.
   */
  auditRetentionDays?: number;
  /**
   * Records a drop before it is made (RequestMetadataDropped, through the command service as the system:
   * RecordRequestMetadataDrop), so that the chain verifier accepts the metadata it nulls (issue 14). Called only
   * when the drop would change something (EventStore.hasRequestMetadataBefore); when it fails, the drop is not made.
   */
  recordDrop: (before: string, orgId: string | null) => Promise<void>;
  /** The sign-in audit (issue 14 item 7), purged under the same retention; absent: nothing to purge. */
  signInAudit?: SignInAuditStore;
  /** The clock (ms since the epoch), for tests. */
  now?: () => number;
}): { stop(): void } {
  const { tokenStore, eventStore, log } = stores;
  const now = stores.now ?? Date.now;
  const retentionDays = stores.auditRetentionDays ?? DEFAULT_AUDIT_RETENTION_DAYS;
  const settings = new AuditRetentionSettings(eventStore);
  // One retention round at a time: a slow one is not overlapped by the next.
  let retaining = false;
  const retain = async () => {
    const cutoffs = retentionCutoffs(retentionDays, await settings.refresh(), now());
    let dropped = 0;
    let signIns = 0;
    // Recorded first: a crash between the two leaves metadata that may go but is still there, never the reverse.
    const drop = async (before: string, orgId?: string): Promise<number> => {
      if (!(await eventStore.hasRequestMetadataBefore(before, orgId))) return 0;
      await stores.recordDrop(before, orgId ?? null);
      return eventStore.dropRequestMetadata(before, orgId);
    };
    if (cutoffs.everywhere !== undefined) {
      dropped += await drop(cutoffs.everywhere);
      if (stores.signInAudit) signIns += await stores.signInAudit.purge(cutoffs.everywhere);
    }
    for (const org of cutoffs.byOrg) {
      dropped += await drop(org.before, org.orgId);
      if (stores.signInAudit) signIns += await stores.signInAudit.purge(org.before, org.orgId);
    }
    if (dropped > 0 || signIns > 0)
      log.info('audit data past its retention dropped', {
        events: dropped,
        signIns,
        retentionDays,
        organizations: cutoffs.byOrg.length,
      });
  };
  const purge = () => {
    if (!retaining) {
      retaining = true;
      retain()
        .catch((e) => log.warn('audit retention failed', { error: String(e) }))
        .finally(() => (retaining = false));
    }
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
