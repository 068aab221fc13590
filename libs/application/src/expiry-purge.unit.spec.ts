import { startExpiryPurge } from './expiry-purge';
import type { Logger } from './logger';
import type { EventStore } from './ports/event-store';
import type { TokenStore } from './ports/token-store';

/**
 * The housekeeping round's arguments (the stores' own deletes are tested against real SQLite and PostgreSQL in the
 * event-store and token-store conformance suites): which cutoffs it asks for, from the configured retention.
 */
const NOW = Date.parse('2026-06-01T00:00:00.000Z');

function run(auditRetentionDays?: number): string[] {
  const calls: string[] = [];
  const tokenStore = { purgeExpired: async (t: string) => void calls.push(`tokens ${t}`) } as unknown as TokenStore;
  const eventStore = {
    purgeIdempotency: async (t: string) => void calls.push(`idempotency ${t}`),
    dropRequestMetadata: async (t: string) => (calls.push(`metadata ${t}`), 0),
  } as unknown as EventStore;
  const log = { info: () => undefined, warn: () => undefined } as unknown as Logger;
  startExpiryPurge({ tokenStore, eventStore, log, auditRetentionDays, now: () => NOW }).stop();
  return calls.sort();
}

describe('startExpiryPurge', () => {
  it('drops request metadata older than the retention, 365 days unless configured', () => {
    expect(run(30)).toContain('metadata 2026-05-02T00:00:00.000Z');
    expect(run()).toContain('metadata 2025-06-01T00:00:00.000Z');
  });

  it('keeps request metadata for ever with a retention of 0, and still purges what expired', () => {
    const calls = run(0);
    expect(calls.some((c) => c.startsWith('metadata'))).toBe(false);
    expect(calls).toEqual(['idempotency 2026-05-31T00:00:00.000Z', 'tokens 2026-06-01T00:00:00.000Z']);
  });
});
