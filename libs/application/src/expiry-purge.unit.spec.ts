import type { StoredEvent } from '@arbor/domain';
import { startExpiryPurge } from './expiry-purge';
import type { Logger } from './logger';
import type { EventQuery, EventStore } from './ports/event-store';
import type { SignInAuditStore } from './ports/sign-in-audit-store';
import type { TokenStore } from './ports/token-store';

/**
 * The housekeeping round's arguments (the stores' own deletes are tested against real SQLite and PostgreSQL in the
 * event-store, sign-in audit and token-store conformance suites): which cutoffs it asks for, from the configured
 * retention and the organizations' settings in the log.
 */
const NOW = Date.parse('2026-06-01T00:00:00.000Z');

const setting = (position: number, orgId: string, days: number | null) =>
  ({ position, type: 'OrgAuditRetentionSet', data: { orgId, days } }) as unknown as StoredEvent;

/** The drops recorded and made, in the order the round made them (`run` fills it). */
let sequence: string[] = [];

async function run(
  auditRetentionDays?: number,
  settings: StoredEvent[] = [],
  /** Whether a drop would change something (EventStore.hasRequestMetadataBefore). */
  holds: (before: string, orgId?: string) => boolean = () => true,
): Promise<string[]> {
  const calls: string[] = [];
  sequence = [];
  const tokenStore = { purgeExpired: async (t: string) => void calls.push(`tokens ${t}`) } as unknown as TokenStore;
  const eventStore = {
    purgeIdempotency: async (t: string) => void calls.push(`idempotency ${t}`),
    dropRequestMetadata: async (t: string, orgId?: string) => {
      calls.push(`metadata ${t} ${orgId ?? '*'}`);
      sequence.push(`drop ${t} ${orgId ?? '*'}`);
      return 0;
    },
    hasRequestMetadataBefore: async (t: string, orgId?: string) => holds(t, orgId),
    readAll: async (q: EventQuery) =>
      q.types?.includes('OrgAuditRetentionSet') ? settings.filter((e) => e.position > (q.after ?? 0)) : [],
  } as unknown as EventStore;
  const signInAudit = {
    purge: async (t: string, orgId?: string) => (calls.push(`sign-ins ${t} ${orgId ?? '*'}`), 0),
  } as unknown as SignInAuditStore;
  const log = { info: () => undefined, warn: () => undefined } as unknown as Logger;
  const recordDrop = async (t: string, orgId: string | null) => void sequence.push(`record ${t} ${orgId ?? '*'}`);
  startExpiryPurge({ tokenStore, eventStore, signInAudit, log, auditRetentionDays, recordDrop, now: () => NOW }).stop();
  await new Promise((resolve) => setTimeout(resolve, 10));
  return calls.sort();
}

describe('startExpiryPurge', () => {
  it('drops request metadata and sign-ins older than the retention, 365 days unless configured', async () => {
    expect(await run(30)).toEqual(
      expect.arrayContaining(['metadata 2026-05-02T00:00:00.000Z *', 'sign-ins 2026-05-02T00:00:00.000Z *']),
    );
    expect(await run()).toContain('metadata 2025-06-01T00:00:00.000Z *');
  });

  it('keeps request metadata for ever with a retention of 0, and still purges what expired', async () => {
    const calls = await run(0);
    expect(calls.some((c) => c.startsWith('metadata') || c.startsWith('sign-ins'))).toBe(false);
    expect(calls).toEqual(['idempotency 2026-05-31T00:00:00.000Z', 'tokens 2026-06-01T00:00:00.000Z']);
  });

  it('applies each organization’s shorter setting to its subtree, its last one, and never a longer one', async () => {
    const calls = await run(30, [
      setting(1, 'org_a', 10),
      setting(2, 'org_b', 90),
      setting(3, 'org_c', 5),
      setting(4, 'org_c', null),
      setting(5, 'org_a', 1),
    ]);
    expect(calls.filter((c) => / org_/.test(c))).toEqual([
      'metadata 2026-05-31T00:00:00.000Z org_a',
      'sign-ins 2026-05-31T00:00:00.000Z org_a',
    ]);
  });

  it('applies organization settings even when the server keeps everything', async () => {
    const calls = await run(0, [setting(1, 'org_a', 7)]);
    expect(calls.filter((c) => c.startsWith('metadata'))).toEqual(['metadata 2026-05-25T00:00:00.000Z org_a']);
  });

  it('records each drop before it makes it (RequestMetadataDropped), and neither when it would change nothing', async () => {
    await run(30, [setting(1, 'org_a', 10), setting(2, 'org_b', 5)], (_t, orgId) => orgId !== 'org_b');
    expect(sequence).toEqual([
      'record 2026-05-02T00:00:00.000Z *',
      'drop 2026-05-02T00:00:00.000Z *',
      'record 2026-05-22T00:00:00.000Z org_a',
      'drop 2026-05-22T00:00:00.000Z org_a',
    ]);
  });
});
