import { auditRetentionStreamId, effectiveRetentionDays, type OrgAuditRetentionSetData } from '@arbor/domain';
import type { EventStore } from './ports/event-store';

/** The event type of an organization's audit retention setting. */
const SET = 'OrgAuditRetentionSet';
const PAGE = 1000;

/**
 * The organizations' audit retention settings (issue 14 item 7), read from the log: the last OrgAuditRetentionSet of
 * each organization, kept in memory and caught up from where the previous `refresh` stopped (one query a round when
 * nothing changed). A deleted organization's setting stays: its past events and sign-ins are still purged by it.
 */
export class AuditRetentionSettings {
  private after = 0;
  private readonly days = new Map<string, number>();

  constructor(private readonly eventStore: EventStore) {}

  /**
   * The settings in force after reading the log's new OrgAuditRetentionSet events: organization id to days (an
   * organization whose setting was removed, `days: null`, is not listed).
   */
  async refresh(): Promise<ReadonlyMap<string, number>> {
    for (;;) {
      const page = await this.eventStore.readAll({ after: this.after, limit: PAGE, types: [SET] });
      for (const e of page) {
        const d = e.data as OrgAuditRetentionSetData;
        if (d.days === null) this.days.delete(d.orgId);
        else this.days.set(d.orgId, d.days);
        this.after = e.position;
      }
      if (page.length < PAGE) return this.days;
    }
  }
}

/** One organization's retention as GET .../audit-retention answers it. */
export interface AuditRetentionView {
  orgId: string;
  /** The organization's own setting in days, or null when it has none. */
  days: number | null;
  /** What applies to its events and sign-ins (the shortest of the server default and the path's settings); 0: for ever. */
  effectiveDays: number;
  /** The server default (IAM_AUDIT_RETENTION_DAYS), 0: for ever. */
  serverDays: number;
}

/** An organization's own setting, read from its stream `audit-retention-<orgId>` (null when none). */
export async function ownAuditRetention(eventStore: EventStore, orgId: string): Promise<number | null> {
  const events = await eventStore.readStream(auditRetentionStreamId(orgId));
  const last = events[events.length - 1];
  return last === undefined ? null : (last.data as OrgAuditRetentionSetData).days;
}

/**
 * The retention of organization `orgId` whose ancestors are `ancestorIds` (any order), with `serverDays` the server
 * default (0: for ever). Reads one stream per organization (at most the depth limit).
 */
export async function auditRetentionOf(
  eventStore: EventStore,
  orgId: string,
  ancestorIds: readonly string[],
  serverDays: number,
): Promise<AuditRetentionView> {
  const [own, ...above] = await Promise.all([orgId, ...ancestorIds].map((id) => ownAuditRetention(eventStore, id)));
  return { orgId, days: own, effectiveDays: effectiveRetentionDays(serverDays, [own, ...above]), serverDays };
}

/**
 * The cut-offs a purge round applies (ISO 8601 UTC times: what occurred before is dropped): `everywhere` from the
 * server default (undefined when it keeps everything), and one per organization whose setting is shorter than it,
 * applied to the organization's subtree as it was when each record was written. Longer settings change nothing:
 * the shortest retention wins (effectiveRetentionDays).
 */
export function retentionCutoffs(
  serverDays: number,
  settings: ReadonlyMap<string, number>,
  nowMs: number,
): { everywhere?: string; byOrg: Array<{ orgId: string; before: string; days: number }> } {
  const cutoff = (days: number) => new Date(nowMs - days * 86_400_000).toISOString();
  const byOrg: Array<{ orgId: string; before: string; days: number }> = [];
  for (const [orgId, days] of settings)
    if (serverDays === 0 || days < serverDays) byOrg.push({ orgId, before: cutoff(days), days });
  return { everywhere: serverDays > 0 ? cutoff(serverDays) : undefined, byOrg };
}
