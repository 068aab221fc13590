import type { NewSignInRecord, SignInAuditStore } from '@arbor/application';

/** A sign-in audit store under test: each engine's spec says how to open it. */
export interface SignInAuditHarness {
  /** A store over empty storage; called before each test. */
  open(): Promise<SignInAuditStore>;
}

const at = (iso: string, extra: Partial<NewSignInRecord> = {}): NewSignInRecord => ({
  occurredAt: iso,
  kind: 'grant',
  grantType: 'password',
  outcome: 'success',
  requestId: `req-${iso}`,
  orgIds: [],
  ...extra,
});

/**
 * What every `SignInAuditStore` adapter must do (issue 14 item 7), as Jest tests: records kept as written, listed
 * in position order with every filter, purged by time and by organization (per-organization retention).
 */
export function signInAuditConformance(harness: SignInAuditHarness): void {
  let store: SignInAuditStore;
  beforeEach(async () => {
    store = await harness.open();
  });
  afterEach(async () => {
    await store.close();
  });

  async function writeFour(): Promise<void> {
    await store.record(
      at('2026-01-01T00:00:00.000Z', {
        userId: 'usr_1',
        clientId: 'arbor',
        tokenId: 'jti-1',
        sessionId: 'fam-1',
        origin: { sealed: 'v1.aXY.Y2lwaGVy', subjectId: 'usr_1' },
        orgIds: ['org_r', 'org_c', 'org_r'],
      }),
    );
    await store.record(
      at('2026-01-02T00:00:00.000Z', {
        outcome: 'failure',
        reason: 'invalid_credentials',
        usernameDigest: 'dg-1',
        origin: { sourceAddress: '203.0.113.1', userAgent: 'ua' },
      }),
    );
    await store.record(
      at('2026-01-03T00:00:00.000Z', {
        grantType: 'client_credentials',
        clientId: 'cli_1',
        outcome: 'throttled',
        reason: 'client_throttled',
        orgIds: ['org_x'],
      }),
    );
    await store.record(
      at('2026-01-04T00:00:00.000Z', { kind: 'revocation', grantType: undefined, userId: 'usr_1', orgIds: ['org_r'] }),
    );
  }

  it('keeps each record as written, in position order, its organizations once each', async () => {
    await writeFour();
    const all = await store.list({ limit: 10 });
    expect(all).toHaveLength(4);
    expect(all[0]).toEqual({
      position: expect.any(Number),
      occurredAt: '2026-01-01T00:00:00.000Z',
      kind: 'grant',
      grantType: 'password',
      outcome: 'success',
      requestId: 'req-2026-01-01T00:00:00.000Z',
      userId: 'usr_1',
      clientId: 'arbor',
      tokenId: 'jti-1',
      sessionId: 'fam-1',
      origin: { sealed: 'v1.aXY.Y2lwaGVy', subjectId: 'usr_1' },
      orgIds: ['org_c', 'org_r'],
    });
    expect(all[1]).not.toHaveProperty('userId');
    expect(all[1]).toMatchObject({ usernameDigest: 'dg-1', reason: 'invalid_credentials', orgIds: [] });
    const positions = all.map((r) => r.position);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
    expect(new Set(positions).size).toBe(4);
  });

  it('filters by position, user, client, outcome, username digest, organization and time, and pages', async () => {
    await writeFour();
    const all = await store.list({ limit: 10 });
    const ids = async (q: Parameters<SignInAuditStore['list']>[0]) =>
      (await store.list(q)).map((r) => all.findIndex((a) => a.position === r.position));
    expect(await ids({ limit: 2 })).toEqual([0, 1]);
    expect(await ids({ limit: 2, after: all[1].position })).toEqual([2, 3]);
    expect(await ids({ limit: 10, userId: 'usr_1' })).toEqual([0, 3]);
    expect(await ids({ limit: 10, clientId: 'cli_1' })).toEqual([2]);
    expect(await ids({ limit: 10, outcome: 'failure' })).toEqual([1]);
    expect(await ids({ limit: 10, usernameDigest: 'dg-1' })).toEqual([1]);
    expect(await ids({ limit: 10, orgId: 'org_r' })).toEqual([0, 3]);
    expect(await ids({ limit: 10, orgId: 'org_c' })).toEqual([0]);
    // Both organizations at once (a tenant's own subtree beside the organization it asks about).
    expect(await ids({ limit: 10, orgId: 'org_c', withinOrg: 'org_r' })).toEqual([0]);
    expect(await ids({ limit: 10, orgId: 'org_r', withinOrg: 'org_x' })).toEqual([]);
    expect(await ids({ limit: 10, since: '2026-01-02T00:00:00.000Z', until: '2026-01-03T00:00:00.000Z' })).toEqual([
      1, 2,
    ]);
    expect(await ids({ limit: 10, userId: 'usr_1', orgId: 'org_r', outcome: 'success' })).toEqual([0, 3]);
  });

  it('purges what occurred before a time, everywhere or only what concerns an organization; idempotent', async () => {
    await writeFour();
    expect(await store.purge('2025-12-31T00:00:00.000Z')).toBe(0);
    expect(await store.purge('2026-01-05T00:00:00.000Z', 'org_c')).toBe(1);
    expect((await store.list({ limit: 10 })).map((r) => r.occurredAt.slice(0, 10))).toEqual([
      '2026-01-02',
      '2026-01-03',
      '2026-01-04',
    ]);
    expect(await store.purge('2026-01-04T00:00:00.000Z', 'org_r')).toBe(0);
    expect(await store.purge('2026-01-05T00:00:00.000Z', 'org_r')).toBe(1);
    expect(await store.list({ limit: 10, orgId: 'org_r' })).toEqual([]);
    expect(await store.purge('2026-01-03T00:00:00.000Z')).toBe(1);
    expect(await store.purge('2026-01-03T00:00:00.000Z')).toBe(0);
    expect((await store.list({ limit: 10 })).map((r) => r.clientId)).toEqual(['cli_1']);
  });
}
