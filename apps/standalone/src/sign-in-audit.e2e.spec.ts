import { ADMIN_EMAIL, createOrg, startTestApp, type TestApp } from './test-support/test-app';
import { PASSWORD, clientToken, createClient, newLoggedInUser } from './test-support/access-fixtures';

/**
 * Issue 14, item 7 (sign-in audit): password logins and their failures, throttling, every grant and RFC 7009
 * revocations are recorded for auditors (GET /api/v1/sign-ins), outside the event log; no secret is kept; a known
 * user's address and user agent are sealed under their key (erasure reaches them); an unknown username only as a
 * keyed digest.
 */
let app: TestApp;
beforeAll(async () => {
  app = await startTestApp({ trustedProxies: ['loopback'] });
});
afterAll(() => app.close());

/** A client id of the form Arbor mints (`cli_` and 26 characters) that names no client: kept as attempted. */
const UNKNOWN_CLIENT_ID = `cli_${'0'.repeat(26)}`;

const login = (username: string, password: string, headers: Record<string, string> = {}) =>
  app.call('POST', '/api/v1/auth/tokens', {
    body: { grant_type: 'password', username, password },
    token: null,
    headers,
  });
/**
 * The records matching `query` once at least `atLeast` are there: they are written after each answer is sent (so
 * that recording costs a login nothing an attacker could time), so they may land a moment after it.
 */
const signIns = async (query: string, atLeast = 0) => {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const res = await app.call('GET', `/api/v1/sign-ins?limit=200&${query}`);
    expect(res.status).toBe(200);
    if (res.body.items.length >= atLeast || Date.now() > deadline) return res.body.items as any[];
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
};

/** Every record (all of this suite's fit in a page) once those of the requests `requestIds` are there. */
const signInsWith = async (requestIds: string[]) => {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const all = await signIns('');
    if (requestIds.every((id) => all.some((r) => r.requestId === id)) || Date.now() > deadline) return all;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
};

describe('sign-in audit (GET /api/v1/sign-ins)', () => {
  it('records a login, a wrong password and a revocation, with address, user agent and request id; no secret', async () => {
    const org = await createOrg(app, 'Signing in');
    const user = await newLoggedInUser(app, org.id, ['member'], 'signer');
    const from = { 'x-forwarded-for': '203.0.113.77', 'user-agent': 'signin-test/1', 'x-request-id': 'si-req-1' };
    expect((await login(user.email, 'wrong password here', from)).status).toBe(400);
    const ok = await login(user.email, PASSWORD, from);
    expect(ok.status).toBe(200);
    const claims = JSON.parse(Buffer.from(ok.body.access_token.split('.')[1], 'base64url').toString());
    expect(
      (
        await app.call('POST', '/api/v1/auth/tokens/revoke', {
          body: { token: ok.body.access_token },
          token: ok.body.access_token,
        })
      ).status,
    ).toBe(200);

    const records = await signIns(`userId=${user.id}`, 4);
    const failed = records.find((r) => r.outcome === 'failure');
    expect(failed).toMatchObject({
      kind: 'grant',
      grantType: 'password',
      reason: 'invalid_credentials',
      userId: user.id,
      // No client named: the first-party public client, as on the success below.
      clientId: 'arbor-first-party',
      requestId: 'si-req-1',
      origin: { sourceAddress: '203.0.113.77', userAgent: 'signin-test/1' },
      orgIds: [org.id],
    });
    expect(records.find((r) => r.tokenId === claims.jti && r.kind === 'grant')).toMatchObject({
      outcome: 'success',
      sessionId: claims.sid,
    });
    expect(records.find((r) => r.kind === 'revocation')).toMatchObject({ outcome: 'success', tokenId: claims.jti });
    const text = JSON.stringify(records);
    expect(text).not.toContain('wrong password here');
    expect(text).not.toContain(ok.body.access_token);
    expect(text).not.toContain(ok.body.refresh_token);
    // Filtered by organization; a member without events:read may not read the audit.
    expect((await signIns(`orgId=${org.id}`)).length).toBeGreaterThanOrEqual(records.length);
    expect((await app.call('GET', '/api/v1/sign-ins', { token: user.token })).status).toBe(403);

    // Erasure reaches the sealed address and user agent, and the ids sealed with them: the request id (which the
    // caller chose), the token's jti and the session.
    expect((await app.call('DELETE', `/api/v1/users/${user.id}`)).status).toBe(204);
    const after = await signIns(`userId=${user.id}`, records.length);
    expect(after).toHaveLength(records.length);
    expect(after.find((r) => r.outcome === 'failure').origin).toEqual({ erased: true });
    expect(JSON.stringify(after)).not.toContain('203.0.113.77');
    for (const gone of ['si-req-1', claims.jti, claims.sid]) expect(JSON.stringify(after)).not.toContain(gone);
    for (const record of after)
      for (const sealedId of ['requestId', 'tokenId', 'sessionId']) expect(record).not.toHaveProperty(sealedId);
  });

  it('records the session (refresh-token family) a revoked access or refresh token belonged to', async () => {
    const org = await createOrg(app, 'Revoking sessions');
    const user = await newLoggedInUser(app, org.id, ['member'], 'revoker');
    const sidOf = (token: string) => JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString()).sid;
    const first = await login(user.email, PASSWORD);
    const second = await login(user.email, PASSWORD);
    const third = await login(user.email, PASSWORD);
    expect([first.status, second.status, third.status]).toEqual([200, 200, 200]);
    const revoke = (token: string, bearer: string | null, requestId: string) =>
      app.call('POST', '/api/v1/auth/tokens/revoke', {
        body: { token },
        token: bearer,
        headers: { 'x-request-id': requestId, 'x-forwarded-for': '198.51.100.66', 'user-agent': 'rv-device/3' },
      });
    // An access token revoked with itself; a refresh token with its session's access token, and one by possession
    // (the first-party public client: no authentication, so the record names the token's user, whose device sent it).
    expect((await revoke(first.body.access_token, first.body.access_token, 'si-rv-1')).status).toBe(200);
    expect((await revoke(second.body.refresh_token, second.body.access_token, 'si-rv-2')).status).toBe(200);
    expect((await revoke(third.body.refresh_token, null, 'si-rv-3')).status).toBe(200);

    const all = await signInsWith(['si-rv-1', 'si-rv-2', 'si-rv-3']);
    const revocation = (requestId: string) => all.find((r) => r.requestId === requestId);
    expect(revocation('si-rv-1')).toMatchObject({
      kind: 'revocation',
      outcome: 'success',
      userId: user.id,
      sessionId: sidOf(first.body.access_token),
    });
    expect(revocation('si-rv-2')).toMatchObject({
      kind: 'revocation',
      outcome: 'success',
      userId: user.id,
      sessionId: sidOf(second.body.access_token),
    });
    expect(revocation('si-rv-3')).toMatchObject({
      kind: 'revocation',
      userId: user.id,
      sessionId: sidOf(third.body.access_token),
      origin: { sourceAddress: '198.51.100.66', userAgent: 'rv-device/3' },
      orgIds: [org.id],
    });
    expect(revocation('si-rv-3')).not.toHaveProperty('tokenId');
    expect(JSON.stringify(all)).not.toContain(third.body.refresh_token);

    // The user's device addresses go with the user, the one that revoked by possession too: every record stays,
    // sealed parts read as erased (four logins, three revocations).
    const mine = all.filter((r) => r.userId === user.id).length;
    expect(mine).toBeGreaterThanOrEqual(7);
    expect((await app.call('DELETE', `/api/v1/users/${user.id}`)).status).toBe(204);
    const after = await signIns(`userId=${user.id}`, mine);
    expect(after).toHaveLength(mine);
    expect(after.filter((r) => r.kind === 'revocation')).toHaveLength(3);
    expect(after.map((r) => r.origin)).toEqual(after.map(() => ({ erased: true })));
    expect(JSON.stringify(after)).not.toContain('rv-device/3');
    expect(JSON.stringify(after)).not.toContain('si-rv-3');
  });

  it('names the user and session of a refresh token refused (reused, or its session ended), their address sealed', async () => {
    const org = await createOrg(app, 'Refused refreshes');
    const user = await newLoggedInUser(app, org.id, ['member'], 'refresher');
    const sidOf = (token: string) => JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString()).sid;
    const session = await login(user.email, PASSWORD);
    const refresh = (requestId: string) =>
      app.call('POST', '/api/v1/auth/tokens', {
        body: { grant_type: 'refresh_token', refresh_token: session.body.refresh_token },
        token: null,
        headers: { 'x-request-id': requestId, 'x-forwarded-for': '198.51.100.67', 'user-agent': 'rf-device/1' },
      });
    expect((await refresh('si-rf-1')).status).toBe(200);
    const reused = await refresh('si-rf-2');
    expect([reused.status, reused.body.error]).toEqual([400, 'invalid_grant']);

    const all = await signInsWith(['si-rf-1', 'si-rf-2']);
    expect(all.find((r) => r.requestId === 'si-rf-2')).toMatchObject({
      kind: 'grant',
      grantType: 'refresh_token',
      outcome: 'failure',
      userId: user.id,
      sessionId: sidOf(session.body.access_token),
      origin: { sourceAddress: '198.51.100.67', userAgent: 'rf-device/1' },
      orgIds: [org.id],
    });
    const before = (await signIns(`userId=${user.id}`)).length;
    expect((await app.call('DELETE', `/api/v1/users/${user.id}`)).status).toBe(204);
    // A refresh token of an erased user: still named, never an address or a request id kept.
    expect((await refresh('si-rf-3')).status).toBe(400);
    const after = await signIns(`userId=${user.id}`, before + 1);
    expect(after).toHaveLength(before + 1);
    expect(after.map((r) => r.origin)).toEqual(after.map(() => ({ erased: true })));
    for (const gone of ['rf-device/1', 'si-rf-2', 'si-rf-3']) expect(JSON.stringify(after)).not.toContain(gone);
  });

  it('records a refused revocation with the reason its answer gave: not the owner, or no authentication', async () => {
    const org = await createOrg(app, 'Refused revocations');
    const owner = await newLoggedInUser(app, org.id, ['member'], 'rv-owner');
    const other = await newLoggedInUser(app, org.id, ['member'], 'rv-other');
    const sidOf = (token: string) => JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString());
    const revoke = (bearer: string | null, requestId: string) =>
      app.call('POST', '/api/v1/auth/tokens/revoke', {
        body: { token: owner.token },
        token: bearer,
        headers: { 'x-request-id': requestId },
      });
    const notOwner = await revoke(other.token, 'si-rv-refused-1');
    expect([notOwner.status, notOwner.body.error]).toEqual([400, 'invalid_grant']);
    const anonymous = await revoke(null, 'si-rv-refused-2');
    expect([anonymous.status, anonymous.body.error]).toEqual([401, 'invalid_client']);

    const all = await signInsWith(['si-rv-refused-1', 'si-rv-refused-2']);
    const record = (requestId: string) => all.find((r) => r.requestId === requestId);
    const jti = sidOf(owner.token).jti;
    expect(record('si-rv-refused-1')).toMatchObject({
      kind: 'revocation',
      outcome: 'failure',
      reason: 'not_token_owner',
      userId: other.id,
      tokenId: jti,
    });
    expect(record('si-rv-refused-2')).toMatchObject({
      kind: 'revocation',
      outcome: 'failure',
      reason: 'invalid_client',
      tokenId: jti,
    });
    // Sent by nobody authenticated: the record names the token's user (their address sealed under their key).
    expect(record('si-rv-refused-2')).toMatchObject({ userId: owner.id });
  });

  it("bounds a tenant client's orgId filter by its own subtree as it was then: an organization moved in brings no past", async () => {
    const [x, y] = [await createOrg(app, 'Sign-ins X'), await createOrg(app, 'Sign-ins Y')];
    const b = await createOrg(app, 'Sign-ins B under Y', y.id);
    const user = await newLoggedInUser(app, b.id, ['member'], 'moved-tenant');
    // The login is recorded under B and Y (then), before a platform admin moves B under X.
    expect((await signIns(`userId=${user.id}&orgId=${b.id}`, 1)).length).toBe(1);
    const moved = await app.call('PUT', `/api/v1/orgs/${b.id}`, {
      body: { name: 'Sign-ins B under Y', parentId: x.id },
    });
    expect(moved.status).toBe(200);
    const token = await clientToken(app, await createClient(app, x.id, ['events:read']));
    for (const query of [`orgId=${b.id}`, `orgId=${b.id}&userId=${user.id}`, `userId=${user.id}`]) {
      const res = await app.call('GET', `/api/v1/sign-ins?limit=200&${query}`, { token });
      expect({ query, status: res.status, items: res.body.items }).toEqual({ query, status: 200, items: [] });
    }
  });

  it('files a client’s revocation of a user’s token under the client’s organization, naming no user', async () => {
    const [mine, theirs] = [await createOrg(app, 'Client tenant'), await createOrg(app, 'User tenant')];
    const client = await createClient(app, mine.id, ['orgs:read']);
    const user = await newLoggedInUser(app, theirs.id, ['member'], 'other-tenant');
    const res = await app.call('POST', '/api/v1/auth/tokens/revoke', {
      body: { token: user.token },
      token: await clientToken(app, client),
      headers: { 'x-request-id': 'si-rv-client' },
    });
    expect([res.status, res.body.error]).toEqual([400, 'invalid_grant']);
    const record = (await signInsWith(['si-rv-client'])).find((r) => r.requestId === 'si-rv-client');
    expect(record).toMatchObject({ kind: 'revocation', reason: 'not_token_owner', clientId: client.clientId });
    expect(record).not.toHaveProperty('userId');
    expect(record.orgIds).toEqual([mine.id]);
  });

  it('keeps no token id of a token that did not verify (free text in a forged payload)', async () => {
    const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const forged = `${b64({ alg: 'ES256', typ: 'at+jwt', kid: 'nope' })}.${b64({ jti: 'forged-jti@example.test', sub: 'x' })}.c2ln`;
    const res = await app.call('POST', '/api/v1/auth/tokens/revoke', {
      body: { token: forged },
      token: null,
      headers: { 'x-request-id': 'si-rv-forged' },
    });
    expect(res.status).toBe(200);
    const all = await signInsWith(['si-rv-forged']);
    const record = all.find((r) => r.requestId === 'si-rv-forged');
    expect(record).toMatchObject({ kind: 'revocation', outcome: 'success' });
    expect(record).not.toHaveProperty('tokenId');
    expect(JSON.stringify(all)).not.toContain('forged-jti@example.test');
  });

  it('records refused client authentication at introspection and revocation, and throttling; never the secret', async () => {
    const org = await createOrg(app, 'Introspecting');
    const client = await createClient(app, org.id, ['orgs:read']);
    const basic = (id: string, secret: string) =>
      `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;
    const call = (path: string, body: Record<string, string>, headers: Record<string, string>) =>
      app.call('POST', `/api/v1/auth/tokens/${path}`, {
        token: null,
        rawBody: new URLSearchParams(body).toString(),
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      });
    const from = (address: string, requestId: string) => ({ 'x-forwarded-for': address, 'x-request-id': requestId });
    const wrong = 'not-the-secret-3f9a';

    // client_secret_basic and client_secret_post with a wrong secret, an unknown client, a client id alone.
    const basicAttempt = await call(
      'introspect',
      { token: 'x' },
      { authorization: basic(client.clientId, wrong), ...from('198.51.100.21', 'si-in-1') },
    );
    expect(basicAttempt.status).toBe(401);
    const post = { token: 'x', client_id: client.clientId, client_secret: wrong };
    expect((await call('introspect', post, from('198.51.100.22', 'si-in-2'))).status).toBe(401);
    const unknown = { token: 'x', client_id: UNKNOWN_CLIENT_ID, client_secret: wrong };
    expect((await call('introspect', unknown, from('198.51.100.23', 'si-in-3'))).status).toBe(401);
    const idAlone = { token: 'x', client_id: client.clientId };
    expect((await call('introspect', idAlone, from('198.51.100.24', 'si-in-4'))).status).toBe(401);
    // Revocation refuses the same way.
    expect((await call('revoke', post, from('198.51.100.25', 'si-rv-c'))).status).toBe(401);
    // No credential at all is not an authentication: not recorded.
    expect((await call('introspect', { token: 'x' }, from('198.51.100.26', 'si-in-none'))).status).toBe(401);
    // One source guessing until the client throttle answers slow_down.
    let throttledAt = '';
    for (let i = 0; i < 12 && !throttledAt; i++) {
      const res = await call('introspect', post, from('198.51.100.27', `si-in-t${i}`));
      if (res.status === 429) throttledAt = `si-in-t${i}`;
      else expect(res.status).toBe(401);
    }
    expect(throttledAt).not.toBe('');

    const all = await signInsWith(['si-in-1', 'si-in-2', 'si-in-3', 'si-in-4', 'si-rv-c', throttledAt]);
    const byRequest = (requestId: string) => all.find((r) => r.requestId === requestId);
    const refusal = {
      kind: 'introspection',
      outcome: 'failure',
      reason: 'invalid_client',
      clientId: client.clientId,
      orgIds: [org.id],
    };
    expect(byRequest('si-in-1')).toMatchObject({ ...refusal, origin: { sourceAddress: '198.51.100.21' } });
    expect(byRequest('si-in-2')).toMatchObject(refusal);
    expect(byRequest('si-in-3')).toMatchObject({ ...refusal, clientId: UNKNOWN_CLIENT_ID, orgIds: [] });
    expect(byRequest('si-in-4')).toMatchObject(refusal);
    expect(byRequest('si-rv-c')).toMatchObject({ ...refusal, kind: 'revocation' });
    expect(byRequest(throttledAt)).toMatchObject({
      kind: 'introspection',
      outcome: 'throttled',
      reason: 'throttled',
      clientId: client.clientId,
    });
    expect(byRequest('si-in-none')).toBeUndefined();
    for (const r of all.filter((r) => r.kind === 'introspection')) expect(r).not.toHaveProperty('userId');
    expect(JSON.stringify(all)).not.toContain(wrong);
    const mine = await signIns(`clientId=${client.clientId}&outcome=throttled`);
    expect(mine.map((r) => r.requestId)).toContain(throttledAt);
  });

  it('records the client id a refused client_credentials grant attempted, in the header or the body', async () => {
    const org = await createOrg(app, 'Granting');
    const client = await createClient(app, org.id, ['orgs:read']);
    const wrong = 'not-the-secret-77c1';
    const grant = (body: Record<string, string>, headers: Record<string, string>) =>
      app.call('POST', '/api/v1/auth/tokens', {
        token: null,
        rawBody: new URLSearchParams({ grant_type: 'client_credentials', ...body }).toString(),
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      });
    const basic = `Basic ${Buffer.from(`${encodeURIComponent(client.clientId)}:${wrong}`).toString('base64')}`;
    expect((await grant({}, { authorization: basic, 'x-request-id': 'si-cc-basic' })).status).toBe(401);
    const post = { client_id: client.clientId, client_secret: wrong };
    expect((await grant(post, { 'x-request-id': 'si-cc-post' })).status).toBe(401);

    const all = await signInsWith(['si-cc-basic', 'si-cc-post']);
    const refusal = { kind: 'grant', grantType: 'client_credentials', outcome: 'failure', reason: 'invalid_client' };
    for (const requestId of ['si-cc-basic', 'si-cc-post'])
      expect(all.find((r) => r.requestId === requestId)).toMatchObject({
        ...refusal,
        clientId: client.clientId,
        orgIds: [org.id],
      });
    // An auditor finds the guesses against the client by its id.
    const byClient = await signIns(`clientId=${client.clientId}&outcome=failure`);
    expect(byClient.map((r) => r.requestId)).toEqual(expect.arrayContaining(['si-cc-basic', 'si-cc-post']));
    expect(JSON.stringify(all)).not.toContain(wrong);
  });

  it('files a client_credentials grant under the client’s organization and every ancestor of it', async () => {
    const root = await createOrg(app, 'Granted clients root');
    const middle = await createOrg(app, 'Granted clients middle', root.id);
    const leaf = await createOrg(app, 'Granted clients leaf', middle.id);
    const client = await createClient(app, leaf.id, ['orgs:read']);
    const res = await app.call('POST', '/api/v1/auth/tokens', {
      token: null,
      body: { grant_type: 'client_credentials', client_id: client.clientId, client_secret: client.clientSecret },
      headers: { 'x-request-id': 'si-granted-client' },
    });
    expect(res.status).toBe(200);
    const all = await signInsWith(['si-granted-client']);
    const record = all.find((r) => r.requestId === 'si-granted-client');
    expect(record).toMatchObject({ kind: 'grant', grantType: 'client_credentials', outcome: 'success' });
    expect(record.orgIds.sort()).toEqual([root.id, middle.id, leaf.id].sort());
    expect(JSON.stringify(all)).not.toContain(client.clientSecret);
  });

  it('files attempts with a revoked client, or one of a deleted organization, under the organizations it had', async () => {
    const parent = await createOrg(app, 'Revoked clients parent');
    const [child, doomed] = [
      await createOrg(app, 'Revoked clients child', parent.id),
      await createOrg(app, 'Revoked clients doomed', parent.id),
    ];
    const revoked = await createClient(app, child.id, ['orgs:read']);
    const orphaned = await createClient(app, doomed.id, ['orgs:read']);
    const gone = await app.call('DELETE', `/api/v1/oauth2/client-credentials/${revoked.id}`);
    expect(gone.status).toBe(204);
    expect((await app.call('DELETE', `/api/v1/orgs/${doomed.id}`)).status).toBe(204);
    for (const [client, requestId] of [
      [revoked, 'si-revoked-client'],
      [orphaned, 'si-orphaned-client'],
    ] as const) {
      const res = await app.call('POST', '/api/v1/auth/tokens', {
        token: null,
        body: { grant_type: 'client_credentials', client_id: client.clientId, client_secret: client.clientSecret },
        headers: { 'x-request-id': requestId },
      });
      expect([res.status, res.body.error]).toEqual([401, 'invalid_client']);
    }
    const all = await signInsWith(['si-revoked-client', 'si-orphaned-client']);
    const refusal = { kind: 'grant', grantType: 'client_credentials', outcome: 'failure', reason: 'invalid_client' };
    expect(all.find((r) => r.requestId === 'si-revoked-client')).toMatchObject({
      ...refusal,
      clientId: revoked.clientId,
    });
    expect(all.find((r) => r.requestId === 'si-revoked-client').orgIds.sort()).toEqual([parent.id, child.id].sort());
    // The deleted organization's ancestors as they were when it ended.
    expect(all.find((r) => r.requestId === 'si-orphaned-client').orgIds.sort()).toEqual([parent.id, doomed.id].sort());
    // So the tree's own auditor (a client reading events on the parent) sees someone trying the dead credentials.
    const auditor = await clientToken(app, await createClient(app, parent.id, ['events:read']));
    const seen = await app.call('GET', `/api/v1/sign-ins?limit=200&outcome=failure&orgId=${parent.id}`, {
      token: auditor,
    });
    expect(seen.status).toBe(200);
    expect(seen.body.items.map((r: any) => r.requestId)).toEqual(
      expect.arrayContaining(['si-revoked-client', 'si-orphaned-client']),
    );
  });

  it('files a revoked client under the tree it lay in when revoked, not one its organization joined since', async () => {
    const [a, b] = [await createOrg(app, 'Revoked in A'), await createOrg(app, 'Joined by B')];
    const moving = await createOrg(app, 'Moves from A to B', a.id);
    const dead = await createClient(app, moving.id, ['orgs:read']);
    expect((await app.call('DELETE', `/api/v1/oauth2/client-credentials/${dead.id}`)).status).toBe(204);
    const moved = await app.call('PUT', `/api/v1/orgs/${moving.id}`, {
      body: { name: 'Moves from A to B', parentId: b.id },
    });
    expect(moved.status).toBe(200);
    const res = await app.call('POST', '/api/v1/auth/tokens', {
      token: null,
      body: { grant_type: 'client_credentials', client_id: dead.clientId, client_secret: dead.clientSecret },
      headers: { 'x-request-id': 'si-revoked-then-moved' },
    });
    expect(res.status).toBe(401);
    const record = (await signInsWith(['si-revoked-then-moved'])).find((r) => r.requestId === 'si-revoked-then-moved');
    expect(record.orgIds.sort()).toEqual([a.id, moving.id].sort());
    const seenBy = async (orgId: string) => {
      const auditor = await clientToken(app, await createClient(app, orgId, ['events:read']));
      const seen = await app.call('GET', '/api/v1/sign-ins?limit=200&outcome=failure', { token: auditor });
      expect(seen.status).toBe(200);
      return seen.body.items.filter((r: any) => r.requestId === 'si-revoked-then-moved').length;
    };
    expect([await seenBy(a.id), await seenBy(b.id)]).toEqual([1, 0]);
  });

  it('keeps an attempted client id of no client id’s form (an email, say) only as a keyed digest, on every endpoint', async () => {
    const email = `client-as-email-${Date.now()}@example.test`;
    const form = (path: string, body: Record<string, string>, headers: Record<string, string>) =>
      app.call('POST', path, {
        token: null,
        rawBody: new URLSearchParams(body).toString(),
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      });
    const basic = `Basic ${Buffer.from(`${encodeURIComponent(email)}:${PASSWORD}`).toString('base64')}`;
    const attempts: [string, Record<string, string>, Record<string, string>][] = [
      [
        '/api/v1/auth/tokens',
        { grant_type: 'password', username: email, password: PASSWORD },
        { authorization: basic },
      ],
      ['/api/v1/auth/tokens', { grant_type: 'client_credentials', client_id: email, client_secret: 'x' }, {}],
      ['/api/v1/auth/tokens/introspect', { token: 'some-token' }, { authorization: basic }],
      ['/api/v1/auth/tokens/revoke', { token: 'some-token', client_id: email, client_secret: 'x' }, {}],
    ];
    const requestIds = attempts.map((_, i) => `si-client-email-${i}`);
    for (const [i, [path, body, headers]] of attempts.entries())
      expect((await form(path, body, { ...headers, 'x-request-id': requestIds[i] })).status).toBe(401);
    const all = await signInsWith(requestIds);
    const records = requestIds.map((id) => all.find((r) => r.requestId === id));
    for (const record of records) {
      expect(record).toMatchObject({
        outcome: 'failure',
        reason: 'invalid_client',
        clientIdDigest: expect.any(String),
      });
      expect(record).not.toHaveProperty('clientId');
    }
    expect(new Set(records.map((r) => r.clientIdDigest)).size).toBe(1);
    expect(JSON.stringify(all)).not.toContain(email);
    // An auditor still finds them by the text attempted.
    const found = await signIns(`clientId=${encodeURIComponent(email)}`);
    expect(found.map((r) => r.requestId).sort()).toEqual([...requestIds].sort());
  });

  it('forgets the client id text attempted on a named user’s login when the user is erased', async () => {
    const org = await createOrg(app, 'Client text');
    const user = await newLoggedInUser(app, org.id, ['member'], 'client-text');
    const text = `client-text-${Date.now()}@example.test`;
    const basic = `Basic ${Buffer.from(`${encodeURIComponent(text)}:x`).toString('base64')}`;
    const grant = (body: Record<string, string>, headers: Record<string, string>) =>
      app.call('POST', '/api/v1/auth/tokens', {
        token: null,
        rawBody: new URLSearchParams(body).toString(),
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      });
    // The same text, on a login naming the user, and on a client_credentials grant naming nobody.
    const named = await grant(
      { grant_type: 'password', username: user.email, password: PASSWORD },
      { authorization: basic, 'x-request-id': 'si-ct-1' },
    );
    const nobody = await grant(
      { grant_type: 'client_credentials', client_id: text, client_secret: 'x' },
      { 'x-request-id': 'si-ct-2' },
    );
    expect([named.status, nobody.status]).toEqual([401, 401]);
    const before = await signInsWith(['si-ct-1', 'si-ct-2']);
    const [mine, other] = ['si-ct-1', 'si-ct-2'].map((id) => before.find((r) => r.requestId === id));
    expect(mine).toMatchObject({ userId: user.id, reason: 'invalid_client', clientIdDigest: other.clientIdDigest });

    expect((await app.call('DELETE', `/api/v1/users/${user.id}`)).status).toBe(204);
    const after = await signIns(`userId=${user.id}`);
    expect(after.find((r) => r.reason === 'invalid_client')).toMatchObject({ origin: { erased: true } });
    expect(JSON.stringify(after)).not.toContain(other.clientIdDigest);
    expect(JSON.stringify(after)).not.toContain('si-ct-1');
    // The text no longer leads to the erased user: only the record naming nobody matches it.
    const found = await signIns(`clientId=${encodeURIComponent(text)}`);
    expect(found.map((r) => r.requestId)).toEqual(['si-ct-2']);
  });

  it('keeps an unknown username only as a keyed digest an auditor can search by', async () => {
    const name = `nobody-${Date.now()}@example.test`;
    expect((await login(name, 'whatever password')).status).toBe(400);
    const found = await signIns(`username=${encodeURIComponent(name.toUpperCase())}`, 1);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({
      outcome: 'failure',
      reason: 'invalid_credentials',
      usernameDigest: expect.any(String),
    });
    expect(found[0]).not.toHaveProperty('userId');
    expect(JSON.stringify(await signIns('outcome=failure'))).not.toContain(name);
    expect(await signIns(`username=${encodeURIComponent(ADMIN_EMAIL)}&outcome=failure`)).toEqual([]);
  });
});
