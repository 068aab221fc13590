import { clientToken, createClient, newLoggedInUser } from './test-support/access-fixtures';
import { tamperEventLog } from './test-support/tamper-event-log';
import { createOrg, startTestApp, type TestApp } from './test-support/test-app';

/**
 * Issue 14, item 2 (complete audit data): every event a request causes records the request id, the client's address
 * (through the trusted-proxy rule), its user agent and the token the actor used, and for updates the fields that
 * changed, before and after; the event API shows them to platform admins; retention may drop the request metadata
 * without breaking the chain, but only under a recorded drop: metadata removed behind the server's back is named. Loopback is a trusted proxy here, so X-Forwarded-For names the client.
 */
let app: TestApp;
beforeAll(async () => {
  app = await startTestApp({ trustedProxies: ['loopback'] });
});
afterAll(() => app.close());

/** The claims of a JWT, unverified (the test's own token). */
const claimsOf = (token: string): Record<string, string> =>
  JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString()) as Record<string, string>;

/** Every event of a stream, as the caller (by default the platform admin) reads them. */
async function streamEvents(streamId: string, token?: string): Promise<any[]> {
  const res = await app.call('GET', `/api/v1/events?limit=200&streamId=${streamId}`, token ? { token } : {});
  expect(res.status).toBe(200);
  return res.body.items;
}

const from = (address: string, agent: string, requestId?: string) => ({
  'x-forwarded-for': address,
  'user-agent': agent,
  ...(requestId === undefined ? {} : { 'x-request-id': requestId }),
});

describe('complete audit data (GET /api/v1/events, platform admins)', () => {
  it("records a user's write with its request id, address, user agent and token, and an update's before and after", async () => {
    const org = await createOrg(app, 'Audited');
    const renamed = await app.call('PUT', `/api/v1/orgs/${org.id}`, {
      body: { name: 'Audited 2', parentId: null, description: 'now described' },
      headers: from('203.0.113.9', 'audit-test/1.0', 'req-audit-0001'),
    });
    expect(renamed.status).toBe(200);
    expect(renamed.headers.get('x-request-id')).toBe('req-audit-0001');
    const [created, updated] = await streamEvents(`org-${org.id}`);
    const admin = claimsOf(app.adminToken);
    expect(updated).toMatchObject({ type: 'OrgUpdated', actor: { type: 'user', id: admin.sub } });
    expect(updated.audit).toEqual({
      request: {
        requestId: 'req-audit-0001',
        sourceAddress: '203.0.113.9',
        userAgent: 'audit-test/1.0',
        token: { jti: admin.jti, sub: admin.sub, sid: admin.sid },
      },
      changes: [
        { field: 'name', before: 'Audited', after: 'Audited 2' },
        { field: 'description', before: null, after: 'now described' },
      ],
    });
    // A creation records its request (an id generated when none was sent) and no changes.
    expect(created.audit).toEqual({ request: expect.objectContaining({ requestId: expect.any(String) }) });
    expect(created.audit.request.requestId).not.toBe('req-audit-0001');
  });

  it("generates an id for a malformed X-Request-ID; a membership's and a profile's changes name their fields", async () => {
    const org = await createOrg(app, 'Audited members');
    const member = await newLoggedInUser(app, org.id, ['member'], 'audited-member');
    const patched = await app.call('PATCH', `/api/v1/orgs/${org.id}/users/${member.id}`, {
      body: { roles: ['admin'] },
      headers: from('198.51.100.4', 'ua', 'has a space'),
    });
    expect(patched.status).toBe(200);
    const membership = await streamEvents(`membership-${org.id}-${member.id}`);
    const changed = membership.find((e) => e.type === 'OrgUserUpdated');
    expect(changed.audit.changes).toEqual([{ field: 'roles', before: ['member'], after: ['admin'] }]);
    expect(changed.audit.request.requestId).toMatch(/^[0-9a-f-]{36}$/);
    // The write answers with the id its events record, so a caller can find them.
    expect(patched.headers.get('x-request-id')).toBe(changed.audit.request.requestId);

    // The user renames themselves: the sealed profile opens on both sides, and names only the field that changed.
    const renamed = await app.call('PATCH', '/api/v1/users/me', {
      body: { name: 'Renamed member' },
      token: member.token,
    });
    expect(renamed.status).toBe(200);
    const updated = (await streamEvents(`user-${member.id}`)).find((e) => e.type === 'UserUpdated');
    expect(updated.data.personal).toMatch(/^v1\./);
    expect(updated.audit).toMatchObject({
      request: { token: { jti: claimsOf(member.token).jti, sub: member.id } },
      changes: [{ field: 'name', before: 'audited-member', after: 'Renamed member' }],
    });
  });

  it("records a client's write in clear with its client_id, and shows a tenant client no audit data", async () => {
    const org = await createOrg(app, 'Audited by a client');
    const client = await createClient(app, org.id, ['orgs:write', 'events:read']);
    const token = await clientToken(app, client);
    const child = await app.call('POST', '/api/v1/orgs', {
      body: { name: 'Made by a client', parentId: org.id },
      token,
      headers: from('192.0.2.33', 'machine/2', 'client-req-1'),
    });
    expect(child.status).toBe(201);
    const [created] = await streamEvents(`org-${child.body.id}`);
    expect(created.audit.request).toEqual({
      requestId: 'client-req-1',
      sourceAddress: '192.0.2.33',
      userAgent: 'machine/2',
      token: { jti: claimsOf(token).jti, sub: client.clientId, clientId: client.clientId },
    });
    const [seenByClient] = await streamEvents(`org-${child.body.id}`, token);
    expect(seenByClient).not.toHaveProperty('audit');
    expect(JSON.stringify(seenByClient)).not.toContain('client-req-1');
  });

  it('reads as erased once the acting user is erased, and the chain still verifies after retention dropped it', async () => {
    const org = await createOrg(app, 'Audited erasure');
    const actor = await newLoggedInUser(app, org.id, ['admin'], 'audited-actor');
    expect(
      (
        await app.call('PUT', `/api/v1/orgs/${org.id}`, {
          body: { name: 'Renamed by the actor', parentId: null },
          token: actor.token,
          headers: from('203.0.113.50', 'actor-browser', 'actor-req'),
        })
      ).status,
    ).toBe(200);
    expect((await app.call('DELETE', `/api/v1/users/${actor.id}`)).status).toBe(204);
    const updated = (await streamEvents(`org-${org.id}`)).find((e) => e.type === 'OrgUpdated');
    expect(updated.audit.request).toEqual({ erased: true });
    expect(updated.audit.changes).toEqual([
      { field: 'name', before: 'Audited erasure', after: 'Renamed by the actor' },
    ]);

    // Retention records each drop before it makes it (RequestMetadataDropped): metadata nulled behind the server's
    // back, with no recorded drop covering it, is named at that event (its digest stays, so the link itself holds).
    await tamperEventLog(app, `UPDATE events SET request_metadata = NULL WHERE position = ${updated.position}`);
    expect((await app.call('GET', '/api/v1/events/verify')).body).toMatchObject({
      valid: false,
      firstBreak: {
        kind: 'metadata',
        position: updated.position,
        eventId: updated.id,
        detail: expect.stringContaining('without a recorded retention drop'),
      },
    });
    const dropped = (await streamEvents(`org-${org.id}`)).find((e) => e.type === 'OrgUpdated');
    expect(dropped.audit.request).toEqual({ dropped: true });

    // Metadata forged behind the server is named.
    await tamperEventLog(
      app,
      `UPDATE events SET request_metadata = '{"requestId":"forged"}' WHERE position = ${dropped.position}`,
    );
    expect((await app.call('GET', '/api/v1/events/verify')).body).toMatchObject({
      valid: false,
      firstBreak: { kind: 'altered', position: dropped.position },
    });
  });
});
