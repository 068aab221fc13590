import { auditRetentionStreamId, SERVER_AUDIT_RETENTION_STREAM, type DomainEvent } from './events';
import { IamError } from './iam-error';
import type { OrgTree } from './org-tree';

/** The longest retention an organization may set, in days (100 years): the schema's bound of OrgAuditRetentionSet. */
export const MAX_AUDIT_RETENTION_DAYS = 36500;

/** SetAuditRetention as the decider reads it: `days` unchecked (a whole number of days, 1-36500, or null). */
export interface SetAuditRetentionCommand {
  orgId: string;
  days: unknown;
}

/**
 * Decides an organization's audit retention setting (issue 14 item 7): one OrgAuditRetentionSet on the stream
 * `audit-retention-<orgId>`, also when the value does not change (every write is recorded; the setting is whatever
 * the last event says). Throws IamError IAM_ERR_NOT_FOUND (no such organization) or IAM_ERR_VALIDATION (`/days` not
 * null nor a whole number from 1 to MAX_AUDIT_RETENTION_DAYS).
 */
export function decideSetAuditRetention(tree: OrgTree, cmd: SetAuditRetentionCommand): DomainEvent[] {
  if (!tree.get(cmd.orgId)) throw new IamError('IAM_ERR_NOT_FOUND', `Organization ${cmd.orgId} does not exist.`);
  const days = cmd.days;
  if (
    days !== null &&
    !(Number.isSafeInteger(days) && (days as number) >= 1 && (days as number) <= MAX_AUDIT_RETENTION_DAYS)
  )
    throw new IamError('IAM_ERR_VALIDATION', 'The retention is not valid.', [
      { path: '/body/days', message: `must be null or a whole number of days from 1 to ${MAX_AUDIT_RETENTION_DAYS}` },
    ]);
  return [
    {
      type: 'OrgAuditRetentionSet',
      streamId: auditRetentionStreamId(cmd.orgId),
      data: { orgId: cmd.orgId, days: days as number | null },
    },
  ];
}

/**
 * The retention that applies to what concerns an organization, in days (0: for ever), from the server default
 * (`serverDays`, IAM_AUDIT_RETENTION_DAYS, 0: for ever) and the settings along its path (root first; a missing or null
 * setting adds nothing): the shortest of them. An organization may shorten what its ancestors and the server keep,
 * never lengthen it.
 */
export function effectiveRetentionDays(serverDays: number, settings: ReadonlyArray<number | null | undefined>): number {
  let days = serverDays;
  for (const s of settings) if (typeof s === 'number' && s > 0 && (days === 0 || s < days)) days = s;
  return days;
}

/** RecordRequestMetadataDrop as the decider reads it: `before` an RFC 3339 instant; `orgId` null for the server default. */
export interface RecordRequestMetadataDropCommand {
  before: string;
  orgId: string | null;
}

/** An RFC 3339 instant in UTC as `Date.prototype.toISOString` writes it (what the purge's cutoffs are). */
const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/;

/**
 * Decides the record of a retention drop (issue 14, tamper evidence): one RequestMetadataDropped on the
 * organization's retention stream, or on SERVER_AUDIT_RETENTION_STREAM for the server default. Recorded before the
 * drop it covers (a crash between the two leaves metadata that may go but is still there). The organization need
 * not exist any more: a deleted organization's setting still applies to its past events. Throws IamError
 * IAM_ERR_VALIDATION when `before` is not an instant.
 */
export function decideRecordRequestMetadataDrop(cmd: RecordRequestMetadataDropCommand): DomainEvent[] {
  if (!INSTANT.test(cmd.before) || Number.isNaN(Date.parse(cmd.before)))
    throw new IamError('IAM_ERR_VALIDATION', 'The cutoff is not valid.', [
      { path: '/before', message: 'must be an RFC 3339 instant in UTC' },
    ]);
  return [
    {
      type: 'RequestMetadataDropped',
      streamId: cmd.orgId === null ? SERVER_AUDIT_RETENTION_STREAM : auditRetentionStreamId(cmd.orgId),
      data: { before: cmd.before, orgId: cmd.orgId },
    },
  ];
}
