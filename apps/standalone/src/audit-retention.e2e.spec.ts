import { newLoggedInUser } from './test-support/access-fixtures';
import { createOrg, startTestApp, type TestApp } from './test-support/test-app';

/**
 * Issue 14, item 7 (retention per organization): an organization's admins set how long the audit data concerning
 * its subtree is kept (PUT /api/v1/orgs/{orgId}/audit-retention); the shortest setting on the path and the server
 * default (365 days here) apply; every setting is an event in the log, and the chain still verifies.
 */
let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(() => app.close());

const retention = (orgId: string, token?: string) =>
  app.call('GET', `/api/v1/orgs/${orgId}/audit-retention`, token ? { token } : {});
const setRetention = (orgId: string, days: unknown, token?: string) =>
  app.call('PUT', `/api/v1/orgs/${orgId}/audit-retention`, { body: { days }, ...(token ? { token } : {}) });

describe('audit retention per organization', () => {
  it('is the server default until set; the shortest on the path applies; null removes a setting', async () => {
    const root = await createOrg(app, 'Retention root');
    const child = await createOrg(app, 'Retention child', root.id);
    expect((await retention(child.id)).body).toEqual({
      orgId: child.id,
      days: null,
      effectiveDays: 365,
      serverDays: 365,
    });

    const set = await setRetention(root.id, 90);
    expect(set.status).toBe(200);
    expect(set.body).toEqual({ orgId: root.id, days: 90, effectiveDays: 90, serverDays: 365 });
    // Inherited by the subtree; a child may shorten it, never lengthen it (nor the server's).
    expect((await retention(child.id)).body).toMatchObject({ days: null, effectiveDays: 90 });
    expect((await setRetention(child.id, 400)).body).toMatchObject({ days: 400, effectiveDays: 90 });
    expect((await setRetention(child.id, 7)).body).toMatchObject({ days: 7, effectiveDays: 7 });
    expect((await retention(root.id)).body).toMatchObject({ days: 90, effectiveDays: 90 });
    expect((await setRetention(root.id, null)).body).toMatchObject({ days: null, effectiveDays: 365 });
    expect((await retention(child.id)).body).toMatchObject({ days: 7, effectiveDays: 7 });

    // Every write is an event of the log (stream audit-retention-<orgId>), and the chain verifies.
    const events = await app.call('GET', `/api/v1/events?streamId=audit-retention-${root.id}`);
    expect(events.body.items.map((e: any) => [e.type, e.data])).toEqual([
      ['OrgAuditRetentionSet', { orgId: root.id, days: 90 }],
      ['OrgAuditRetentionSet', { orgId: root.id, days: null }],
    ]);
    expect((await app.call('GET', '/api/v1/events/verify')).body).toMatchObject({ valid: true });
    // The organization itself is unchanged: its version (ETag) stays.
    expect((await app.call('GET', `/api/v1/orgs/${root.id}`)).body.version).toBe(root.version);
  });

  it('refuses a bad number of days, an unknown organization, and callers without orgs:write there', async () => {
    const org = await createOrg(app, 'Retention rules');
    for (const days of [0, 36501, 1.5, '30']) expect((await setRetention(org.id, days)).status).toBe(400);
    expect((await app.call('PUT', `/api/v1/orgs/${org.id}/audit-retention`, { body: {} })).status).toBe(400);
    expect((await setRetention('org_00000000000000000000000000', 30)).status).toBe(404);

    const admin = await newLoggedInUser(app, org.id, ['admin'], 'retention-admin');
    expect((await setRetention(org.id, 30, admin.token)).status).toBe(200);
    const member = await newLoggedInUser(app, org.id, ['member'], 'retention-member');
    expect((await retention(org.id, member.token)).body).toMatchObject({ days: 30 });
    expect((await setRetention(org.id, 60, member.token)).status).toBe(403);
    const other = await createOrg(app, 'Retention elsewhere');
    expect((await setRetention(other.id, 30, admin.token)).status).toBe(404);
    expect((await retention(other.id, admin.token)).status).toBe(404);
  });

  it('leaves the organization’s members in force: its admin still writes there after a setting', async () => {
    // The command model once took a setting for the organization's deletion and forgot its members and clients.
    const org = await createOrg(app, 'Retention keeps members');
    const admin = await newLoggedInUser(app, org.id, ['admin'], 'retention-keeps');
    expect((await setRetention(org.id, 30, admin.token)).status).toBe(200);
    // A second write by the same admin: the command side checks it against its model's memberships.
    expect((await setRetention(org.id, 20, admin.token)).status).toBe(200);
    expect((await retention(org.id, admin.token)).body).toMatchObject({ days: 20 });
  });
});
