import { createOrg, startTestApp, type TestApp } from './test-support/test-app';

/*
 * Text that no profile can store the same way is refused at the door, wherever it arrives: U+0000 (PostgreSQL's
 * text and jsonb refuse it, so one tenant admin's request stopped the distributed projector for good while the
 * embedded profile stored it) and lone UTF-16 surrogates (stored lossily, read back as U+FFFD). Runs in both
 * profiles (jest.config.js PROFILE_NEUTRAL_SUITES).
 */
let app: TestApp;
let orgId: string;
beforeAll(async () => {
  app = await startTestApp();
  orgId = (await createOrg(app, 'Text rules')).id;
});
afterAll(() => app.close());

const json = (rawBody: string) => ({ rawBody, headers: { 'content-type': 'application/json' } });

const expectRefused = (res: { status: number; body: any }, path?: string) => {
  expect(res.status).toBe(400);
  expect(res.body.code).toBe('IAM_ERR_VALIDATION');
  if (path) expect(res.body.errors).toEqual(expect.arrayContaining([expect.objectContaining({ path })]));
};

describe('U+0000 and lone surrogates in any request text', () => {
  it('refuses them in every string of a JSON body, member names included', async () => {
    expectRefused(
      await app.call(
        'POST',
        `/api/v1/orgs/${orgId}/users`,
        json('{"email":"x\\u0000@t.test","name":"n","roles":["member"]}'),
      ),
      '/body/email',
    );
    expectRefused(
      await app.call('POST', '/api/v1/orgs', json(`{"name":"d","parentId":"${orgId}","description":"a\\u0000b"}`)),
      '/body/description',
    );
    expectRefused(
      await app.call(
        'POST',
        '/api/v1/orgs',
        json(`{"name":"m","parentId":"${orgId}","metadata":{"k":["ok","a\\u0000"]}}`),
      ),
      '/body/metadata/k/1',
    );
    expectRefused(
      await app.call('POST', '/api/v1/orgs', json(`{"name":"m","parentId":"${orgId}","metadata":{"a\\u0000":1}}`)),
    );
    expectRefused(
      await app.call('POST', '/api/v1/orgs', json(`{"name":"s\\ud800x","parentId":"${orgId}"}`)),
      '/body/name',
    );
    expectRefused(
      await app.call('POST', '/api/v1/orgs', json(`{"name":"s\\udc00","parentId":"${orgId}"}`)),
      '/body/name',
    );
  });

  it('accepts well-formed text outside the Basic Multilingual Plane', async () => {
    const res = await app.call('POST', '/api/v1/orgs', json(`{"name":"tree \\ud83c\\udf33","parentId":"${orgId}"}`));
    expect(res.status).toBe(201);
    expect(res.body.name).toBe('tree \u{1F333}');
  });

  it('refuses them in query parameters and form fields', async () => {
    for (const param of ['type', 'streamId', 'actorId']) {
      expectRefused(await app.call('GET', `/api/v1/events?${param}=%00`), `/query/${param}`);
    }
    expectRefused(await app.call('GET', '/api/v1/users?email=a%00%40b.test'), '/query/email');
    const login = await app.call('POST', '/api/v1/auth/tokens', {
      token: null,
      rawBody: 'grant_type=password&username=admin%00%40example.test&password=x',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(login.status).toBe(400);
    expect(login.body.error).toBe('invalid_request');
  });

  it('refuses percent-encoded bytes that are not UTF-8 in query parameters and form fields, naming the parameter', async () => {
    // Invalid UTF-8, an encoded lone surrogate, a cut sequence: URLSearchParams would read each as U+FFFD.
    for (const bad of ['%FF', '%ED%A0%80', 'a%E2%82', '%C0%AF']) {
      expectRefused(await app.call('GET', `/api/v1/orgs?q=${bad}`), '/query/q');
      expectRefused(await app.call('GET', `/api/v1/users?email=${bad}`), '/query/email');
      const login = await app.call('POST', '/api/v1/auth/tokens', {
        token: null,
        rawBody: `grant_type=password&username=${bad}&password=x`,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
      expect([bad, login.status, login.body.error]).toEqual([bad, 400, 'invalid_request']);
    }
    // U+FFFD itself is well-formed text; a '%' that starts no escape stays a literal '%', as URLSearchParams reads it.
    expect((await app.call('GET', '/api/v1/orgs?q=%EF%BF%BD')).status).toBe(200);
    expect((await app.call('GET', '/api/v1/orgs?q=100%')).status).toBe(200);
    expect((await app.call('GET', '/api/v1/orgs?q=tree+%F0%9F%8C%B3')).status).toBe(200);
  });

  it('keeps every later write working (nothing unstorable reached the log)', async () => {
    await app.call(
      'POST',
      `/api/v1/orgs/${orgId}/users`,
      json('{"email":"y\\u0000@t.test","name":"n","roles":["member"]}'),
    );
    const after = await app.call('POST', '/api/v1/orgs', { body: { name: 'after', parentId: orgId } });
    expect(after.status).toBe(201);
    const ready = await app.call('GET', '/readyz', { token: null });
    expect(ready.status).toBe(200);
  });
});

describe('event query bounds', () => {
  it('refuses positions and instants that no store can compare with 400', async () => {
    for (const q of [
      'after=9223372036854775807',
      'after=99999999999999999999999',
      'after=1e300',
      'since=0000-01-01T00:00:00Z',
      'until=0000-01-01T00:00:00Z',
      'since=10000-01-01T00:00:00Z',
    ]) {
      const res = await app.call('GET', `/api/v1/events?${q}`);
      expect({ q, status: res.status }).toEqual({ q, status: 400 });
    }
    expect((await app.call('GET', `/api/v1/events?after=${Number.MAX_SAFE_INTEGER}`)).status).toBe(200);
    expect((await app.call('GET', '/api/v1/events?since=0001-01-01T00:00:00Z&until=9999-12-31T23:59:59Z')).status).toBe(
      200,
    );
  });
});

describe('operations that declare no request body', () => {
  it('refuse content instead of ignoring it, whatever its type', async () => {
    const child = await createOrg(app, 'Bodiless', orgId);
    for (const [rawBody, type] of [
      ['{"recursive":true}', 'application/json'],
      ['[1,2]', 'application/json'],
      ['x', 'text/plain'],
    ]) {
      const res = await app.call('DELETE', `/api/v1/orgs/${child.id}`, { rawBody, headers: { 'content-type': type } });
      expectRefused(res, '/body');
    }
    expect((await app.call('GET', `/api/v1/orgs/${child.id}`)).status).toBe(200);
    expect((await app.call('DELETE', `/api/v1/orgs/${child.id}`)).status).toBe(204);
  });
});
