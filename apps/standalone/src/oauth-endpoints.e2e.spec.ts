import {
  ARBOR_AUDIENCE,
  createOrg,
  passwordToken,
  startTestApp,
  type CallOptions,
  type CallResult,
  type TestApp,
} from './test-support/test-app';
import { PASSWORD, addNewUser, createClient } from './test-support/access-fixtures';
import { claimsOf } from './test-support/forge-token';
import { freshCall } from './test-support/fresh-connection';

/**
 * Contract section 3, the wire format of the OAuth endpoints: every error of the token, introspection and
 * revocation endpoints is an RFC 6749 section 5.2 object, every response there is `no-store`, parameters
 * are never repeated (but `resource`), scopes follow the RFC 6749 section 3.3 grammar, client
 * authentication on user grants is checked, and the metadata (RFC 8414) says what the endpoints accept.
 */

const TOKENS = '/api/v1/auth/tokens';
const INTROSPECT = '/api/v1/auth/tokens/introspect';
const REVOKE = '/api/v1/auth/tokens/revoke';
const OAUTH_PATHS = [TOKENS, INTROSPECT, REVOKE];
const FIRST_PARTY = 'arbor-first-party';

let app: TestApp;
let org: any;
let client: any;
let user: { userId: string; email: string };

beforeAll(async () => {
  app = await startTestApp();
  org = await createOrg(app, 'OAuth endpoints');
  client = await createClient(app, org.id, ['orgs:read', 'users:read']);
  user = await addNewUser(app, org.id, ['member'], 'wire');
});
afterAll(() => app.close());

const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;
const form = (body: string, headers: Record<string, string> = {}): CallOptions => ({
  token: null,
  rawBody: body,
  headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
});
const json = (body: string, headers: Record<string, string> = {}): CallOptions => ({
  rawBody: body,
  headers: { 'content-type': 'application/json', ...headers },
});
const q = (fields: Record<string, string>) => new URLSearchParams(fields).toString();

/** An RFC 6749 section 5.2 error, never cached: the shape every failure on these three paths has. */
function expectOAuthError(res: CallResult, status: number, error: string): void {
  expect({ status: res.status, error: res.body?.error, type: res.headers.get('content-type') }).toEqual({
    status,
    error,
    type: expect.stringMatching(/^application\/json/),
  });
  expect(res.body).toEqual({ error, error_description: expect.any(String) });
  expectNoStore(res);
}

function expectNoStore(res: CallResult): void {
  expect({ cacheControl: res.headers.get('cache-control'), pragma: res.headers.get('pragma') }).toEqual({
    cacheControl: 'no-store',
    pragma: 'no-cache',
  });
}

describe('errors on the OAuth endpoints are RFC 6749 section 5.2 objects, and nothing there is cached', () => {
  it.each(OAUTH_PATHS)(
    '%s: malformed JSON, non-string fields and duplicate JSON keys are invalid_request',
    async (path) => {
      const auth = { authorization: basic(client.clientId, client.clientSecret) };
      expectOAuthError(await app.call('POST', path, json('{"grant_type": "password",', auth)), 400, 'invalid_request');
      expectOAuthError(
        await app.call('POST', path, json('{"grant_type": 1, "token": 1, "scope": ["orgs:read"]}', auth)),
        400,
        'invalid_request',
      );
      expectOAuthError(
        await app.call(
          'POST',
          path,
          json(
            '{"grant_type": "client_credentials", "token": "x", "grant_type": "client_credentials", "token": "x"}',
            auth,
          ),
        ),
        400,
        'invalid_request',
      );
      // Nesting deep enough to overflow a recursive scan is refused as input, not a 500.
      expectOAuthError(
        await app.call('POST', path, json(`{"a":${'['.repeat(6000)}${']'.repeat(6000)}}`, auth)),
        400,
        'invalid_request',
      );
    },
  );

  it.each(OAUTH_PATHS)('%s: repeated form parameters, 413 and 415 are invalid_request', async (path) => {
    const auth = { authorization: basic(client.clientId, client.clientSecret) };
    expectOAuthError(
      await app.call(
        'POST',
        path,
        form('grant_type=client_credentials&token=a&token=a&grant_type=client_credentials', auth),
      ),
      400,
      'invalid_request',
    );
    expectOAuthError(
      await app.call('POST', path, form(`token=${'x'.repeat(70 * 1024)}`, auth)),
      413,
      'invalid_request',
    );
    expectOAuthError(
      await app.call('POST', path, {
        token: null,
        rawBody: 'token=x',
        headers: { 'content-type': 'text/plain', ...auth },
      }),
      415,
      'invalid_request',
    );
  });

  it.each(OAUTH_PATHS)('%s: other methods get 405 with Allow, OPTIONS 204, both no-store', async (path) => {
    for (const method of ['GET', 'PUT', 'DELETE']) {
      const res = await app.call(method, path, { token: null });
      expectOAuthError(res, 405, 'invalid_request');
      expect(res.headers.get('allow')).toBe('POST');
    }
    const options = await app.call('OPTIONS', path, { token: null });
    expect(options.status).toBe(204);
    expect(options.headers.get('allow')).toBe('POST');
    expectNoStore(options);
  });

  it('marks successful introspection and revocation answers no-store too', async () => {
    const token = (
      await app.call(
        'POST',
        TOKENS,
        form(q({ grant_type: 'client_credentials' }), { authorization: basic(client.clientId, client.clientSecret) }),
      )
    ).body.access_token;
    expectNoStore(await app.call('POST', INTROSPECT, { body: { token } }));
    expectNoStore(await app.call('POST', REVOKE, { body: { token } }));
  });

  it('refuses duplicate JSON keys and too deep nesting everywhere else with a problem document', async () => {
    const deep = (levels: number) => `{"name": "deep", "metadata": {"k": ${'['.repeat(levels)}${']'.repeat(levels)}}}`;
    for (const body of [
      '{"name": "a", "name": "b"}',
      '{"name": "a", "metadata": {"k": 1, "k": 2}}',
      '{"name": "a", "n\\u0061me": "b"}',
      deep(31),
      deep(10_000),
    ]) {
      const res = await app.call('POST', '/api/v1/orgs', json(body));
      expect({ status: res.status, type: res.headers.get('content-type'), code: res.body.code }).toEqual({
        status: 400,
        type: expect.stringMatching(/^application\/problem\+json/),
        code: 'IAM_ERR_VALIDATION',
      });
    }
    // The same key in sibling objects is no duplicate; 32 levels is the bound, not past it.
    const ok = await app.call(
      'POST',
      '/api/v1/orgs',
      json(`{"name": "siblings", "parentId": "${org.id}", "metadata": {"a": {"k": 1}, "b": {"k": 2}}}`),
    );
    expect(ok.status).toBe(201);
    const deepest = await app.call(
      'POST',
      '/api/v1/orgs',
      json(`{"name": "deepest", "parentId": "${org.id}", "metadata": {"k": ${'['.repeat(30)}${']'.repeat(30)}}}`),
    );
    expect(deepest.status).toBe(201);
  });

  it('lets resource repeat (RFC 8707) while refusing any other repeated parameter', async () => {
    const auth = { authorization: basic(client.clientId, client.clientSecret) };
    const res = await app.call(
      'POST',
      TOKENS,
      form(
        `grant_type=client_credentials&resource=${encodeURIComponent(ARBOR_AUDIENCE)}&resource=${encodeURIComponent(ARBOR_AUDIENCE)}`,
        auth,
      ),
    );
    expect(res.status).toBe(200);
    expectOAuthError(
      await app.call('POST', TOKENS, form('grant_type=client_credentials&scope=orgs:read&scope=orgs:read', auth)),
      400,
      'invalid_request',
    );
  });

  it('documents these errors in the OpenAPI document as RFC 6749 objects', async () => {
    const doc = (await app.call('GET', '/api/v1/openapi.json')).body;
    for (const path of OAUTH_PATHS) {
      const responses = doc.paths[`${path}`].post.responses;
      for (const status of ['400', '401', '413', '415']) {
        expect(Object.keys(responses[status].content)).toEqual(['application/json']);
        // A named schema (issue 11): follow the $ref.
        const schema = responses[status].content['application/json'].schema;
        expect(doc.components.schemas[schema.$ref.split('/').pop()].required).toEqual(['error', 'error_description']);
      }
    }
  });
});

describe('scope follows the RFC 6749 section 3.3 grammar for every grant', () => {
  const malformed = [
    '',
    ' ',
    ' orgs:read',
    'orgs:read ',
    'orgs:read  users:read',
    'orgs:read\tusers:read',
    'orgs:"read',
    'orgs\\read',
    'orgs:réad',
  ];

  it.each(malformed.map((s) => [JSON.stringify(s), s]))('refuses scope=%s with invalid_scope', async (_name, scope) => {
    const password = await app.call(
      'POST',
      TOKENS,
      form(q({ grant_type: 'password', username: user.email, password: PASSWORD, scope })),
    );
    expectOAuthError(password, 400, 'invalid_scope');
    const auth = { authorization: basic(client.clientId, client.clientSecret) };
    expectOAuthError(
      await app.call('POST', TOKENS, form(q({ grant_type: 'client_credentials', scope }), auth)),
      400,
      'invalid_scope',
    );
    const login = await app.call(
      'POST',
      TOKENS,
      form(q({ grant_type: 'password', username: user.email, password: PASSWORD })),
    );
    expectOAuthError(
      await app.call(
        'POST',
        TOKENS,
        form(q({ grant_type: 'refresh_token', refresh_token: login.body.refresh_token, scope })),
      ),
      400,
      'invalid_scope',
    );
  });
});

describe('client authentication on the token endpoint', () => {
  const passwordGrant = (extra: Record<string, string> = {}, headers: Record<string, string> = {}) =>
    app.call(
      'POST',
      TOKENS,
      form(q({ grant_type: 'password', username: user.email, password: PASSWORD, ...extra }), headers),
    );

  it('refuses HTTP Basic naming one client with a body client_id naming another', async () => {
    const other = await createClient(app, org.id, ['orgs:read']);
    const auth = { authorization: basic(client.clientId, client.clientSecret) };
    expectOAuthError(
      await app.call('POST', TOKENS, form(q({ grant_type: 'client_credentials', client_id: other.clientId }), auth)),
      400,
      'invalid_request',
    );
    expectOAuthError(await passwordGrant({ client_id: other.clientId }, auth), 400, 'invalid_request');
    expect(
      (await app.call('POST', TOKENS, form(q({ grant_type: 'client_credentials', client_id: client.clientId }), auth)))
        .status,
    ).toBe(200);
  });

  it('reads HTTP Basic as strictly as a form field: base64 alphabet, UTF-8, no U+0000, on all three endpoints', async () => {
    const raw = (credentials: Buffer | string) =>
      `Basic ${typeof credentials === 'string' ? credentials : credentials.toString('base64')}`;
    const good = Buffer.from(`${client.clientId}:${client.clientSecret}`);
    const refused = [
      // Characters outside the base64 alphabet, which a lenient decoder skips (the rest still decodes).
      raw(`${good.toString('base64').slice(0, 8)}*!${good.toString('base64').slice(8)}`),
      raw(`${good.toString('base64')}====`),
      // Bytes that are not UTF-8 (a lenient decoder turns them into U+FFFD).
      raw(Buffer.concat([Buffer.from(`${client.clientId}:`), Buffer.from([0xff, 0xfe])])),
      // Percent-escapes that decode to U+0000 or to bytes that are not UTF-8.
      raw(Buffer.from(`${client.clientId}%00:${client.clientSecret}`)),
      raw(Buffer.from(`${client.clientId}:${client.clientSecret}%FF`)),
    ];
    for (const path of OAUTH_PATHS)
      for (const authorization of refused) {
        const body = path === TOKENS ? q({ grant_type: 'client_credentials' }) : q({ token: 'x' });
        const res = await app.call('POST', path, form(body, { authorization }));
        expect([path, authorization, res.status, res.body.error]).toEqual([
          path,
          authorization,
          400,
          'invalid_request',
        ]);
      }
    // The same credentials well formed, unpadded base64 included, still authenticate.
    const unpadded = raw(good.toString('base64').replace(/=+$/, ''));
    for (const authorization of [raw(good), unpadded]) {
      const res = await app.call('POST', TOKENS, form(q({ grant_type: 'client_credentials' }), { authorization }));
      expect([authorization, res.status]).toEqual([authorization, 200]);
    }
  });

  it('answers confidential client credentials on a password or refresh grant: wrong ones invalid_client, right ones unauthorized_client', async () => {
    const login = (await passwordGrant()).body;
    const refreshGrant = (extra: Record<string, string> = {}, headers: Record<string, string> = {}) =>
      app.call(
        'POST',
        TOKENS,
        form(q({ grant_type: 'refresh_token', refresh_token: login.refresh_token, ...extra }), headers),
      );
    const wrong = await createClient(app, org.id, ['orgs:read']);
    for (const grant of [passwordGrant, refreshGrant]) {
      const viaBasic = await grant({}, { authorization: basic(wrong.clientId, 'not the secret') });
      expectOAuthError(viaBasic, 401, 'invalid_client');
      expect(viaBasic.headers.get('www-authenticate')).toMatch(/^Basic /);
      expectOAuthError(
        await grant({ client_id: wrong.clientId, client_secret: 'not the secret' }),
        401,
        'invalid_client',
      );
      expectOAuthError(
        await grant({}, { authorization: basic(client.clientId, client.clientSecret) }),
        400,
        'unauthorized_client',
      );
      expectOAuthError(
        await grant({ client_id: client.clientId, client_secret: client.clientSecret }),
        400,
        'unauthorized_client',
      );
      // A client_id alone names a public client: only the first-party one exists.
      expectOAuthError(await grant({ client_id: client.clientId }), 401, 'invalid_client');
    }
    // The refresh token was never spent by the refused calls.
    const ok = await refreshGrant({ client_id: FIRST_PARTY });
    expect(ok.status).toBe(200);
    expect(claimsOf(ok.body.access_token).client_id).toBe(FIRST_PARTY);
    expect((await passwordGrant({ client_id: FIRST_PARTY })).status).toBe(200);
  });
});

describe('client credentials are never cached', () => {
  it('sends the secret with Cache-Control: no-store, also on an idempotent replay', async () => {
    const body = { name: 'no-store', orgId: org.id, scopes: ['orgs:read'] };
    const headers = { 'idempotency-key': `no-store-${Date.now()}` };
    const first = await app.call('POST', '/api/v1/oauth2/client-credentials', { body, headers });
    expect(first.status).toBe(201);
    expect(first.headers.get('cache-control')).toBe('no-store');
    const replay = await app.call('POST', '/api/v1/oauth2/client-credentials', { body, headers });
    expect(replay.status).toBe(201);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(replay.headers.get('cache-control')).toBe('no-store');
  });
});

describe('RFC 8414 metadata and RFC 7662 answers say what is true', () => {
  it('lists how the introspection and revocation endpoints authenticate callers, and where the documentation is', async () => {
    const metadata = (await app.call('GET', '/.well-known/oauth-authorization-server', { token: null })).body;
    expect([...metadata.introspection_endpoint_auth_methods_supported].sort()).toEqual([
      'Bearer',
      'client_secret_basic',
      'client_secret_post',
    ]);
    expect([...metadata.revocation_endpoint_auth_methods_supported].sort()).toEqual([
      'Bearer',
      'client_secret_basic',
      'client_secret_post',
      'none',
    ]);
    expect(new URL(metadata.service_documentation).href).toBe(metadata.service_documentation);
  });

  it('includes aud and client_id in introspection answers', async () => {
    const tokens = (
      await app.call('POST', TOKENS, form(q({ grant_type: 'password', username: user.email, password: PASSWORD })))
    ).body;
    expect((await app.call('POST', INTROSPECT, { body: { token: tokens.access_token } })).body).toMatchObject({
      active: true,
      aud: ARBOR_AUDIENCE,
      client_id: FIRST_PARTY,
    });
    expect((await app.call('POST', INTROSPECT, { body: { token: tokens.refresh_token } })).body).toMatchObject({
      active: true,
      client_id: FIRST_PARTY,
    });
    const clientAccess = (
      await app.call(
        'POST',
        TOKENS,
        form(q({ grant_type: 'client_credentials' }), { authorization: basic(client.clientId, client.clientSecret) }),
      )
    ).body.access_token;
    expect((await app.call('POST', INTROSPECT, { body: { token: clientAccess } })).body).toMatchObject({
      active: true,
      aud: ARBOR_AUDIENCE,
      client_id: client.clientId,
    });
  });
});

describe('one set of credentials per request (RFC 6749 section 2.3, RFC 9110 section 5.3)', () => {
  const FORM = 'application/x-www-form-urlencoded';

  it('refuses a repeated Authorization line on the OAuth endpoints with invalid_request, whichever comes first', async () => {
    const other = await createClient(app, org.id, ['orgs:read']);
    const mine = basic(client.clientId, client.clientSecret);
    const theirs = basic(other.clientId, other.clientSecret);
    for (const lines of [
      [theirs, mine],
      [mine, theirs],
      [mine, mine],
    ]) {
      const res = await freshCall(app.url, 'POST', TOKENS, {
        form: { grant_type: 'client_credentials' },
        headers: { authorization: lines },
      });
      expect({ status: res.status, error: res.body?.error }).toEqual({ status: 400, error: 'invalid_request' });
    }
    const token = (
      await freshCall(app.url, 'POST', TOKENS, {
        form: { grant_type: 'client_credentials' },
        headers: { authorization: mine },
      })
    ).body.access_token;
    for (const path of [INTROSPECT, REVOKE]) {
      const res = await freshCall(app.url, 'POST', path, {
        form: { token },
        headers: { authorization: [mine, theirs] },
      });
      expect({ path, status: res.status, error: res.body?.error }).toEqual({
        path,
        status: 400,
        error: 'invalid_request',
      });
    }
    // Neither line was used: the token is still active.
    const active = await freshCall(app.url, 'POST', INTROSPECT, { form: { token }, headers: { authorization: mine } });
    expect(active.body.active).toBe(true);
  });

  it('refuses a repeated Authorization, Content-Type or Idempotency-Key on the API with a 400 problem naming it', async () => {
    const bearer = `Bearer ${app.adminToken}`;
    const cases: {
      method: string;
      path: string;
      headers: Record<string, string | string[]>;
      body?: unknown;
      field: string;
    }[] = [
      {
        method: 'GET',
        path: `/api/v1/orgs/${org.id}`,
        headers: { authorization: [bearer, 'Bearer garbage'] },
        field: 'authorization',
      },
      {
        method: 'GET',
        path: `/api/v1/orgs/${org.id}`,
        headers: { authorization: ['Bearer garbage', bearer] },
        field: 'authorization',
      },
      {
        method: 'POST',
        path: '/api/v1/orgs',
        headers: { authorization: bearer, 'content-type': ['application/json', FORM] },
        body: { name: 'Twice typed' },
        field: 'content-type',
      },
      {
        method: 'POST',
        path: '/api/v1/orgs',
        headers: { authorization: bearer, 'idempotency-key': ['key-one', 'key-two'] },
        body: { name: 'Twice keyed' },
        field: 'idempotency-key',
      },
    ];
    for (const { field, ...call } of cases) {
      const res = await freshCall(app.url, call.method, call.path, { body: call.body, headers: call.headers });
      expect({ field, status: res.status, code: res.body?.code, detail: res.body?.detail }).toEqual({
        field,
        status: 400,
        code: 'IAM_ERR_VALIDATION',
        detail: expect.stringContaining(field),
      });
    }
    // Nothing was created by the refused writes.
    const roots = await app.call('GET', '/api/v1/orgs?limit=100');
    expect(roots.status).toBe(200);
    expect(JSON.stringify(roots.body)).toContain('OAuth endpoints');
    expect(JSON.stringify(roots.body)).not.toMatch(/Twice (typed|keyed)/);
  });

  it('refuses client credentials in the body beside a bearer token at introspection and revocation', async () => {
    const clientToken = (
      await app.call(
        'POST',
        TOKENS,
        form(q({ grant_type: 'client_credentials' }), { authorization: basic(client.clientId, client.clientSecret) }),
      )
    ).body.access_token;
    const userToken = await passwordToken(app, user.email, PASSWORD);
    for (const path of [INTROSPECT, REVOKE]) {
      const asUser = { authorization: `Bearer ${userToken}` };
      // A right secret too: it would have gone unchecked, the bearer token deciding.
      expectOAuthError(
        await app.call(
          'POST',
          path,
          form(q({ token: clientToken, client_id: client.clientId, client_secret: client.clientSecret }), asUser),
        ),
        400,
        'invalid_request',
      );
      expectOAuthError(
        await app.call('POST', path, form(q({ token: clientToken, client_id: client.clientId }), asUser)),
        400,
        'invalid_request',
      );
    }
    // The bearer token's own client named in the body is no second method.
    const own = await app.call(
      'POST',
      INTROSPECT,
      form(q({ token: clientToken, client_id: client.clientId }), { authorization: `Bearer ${clientToken}` }),
    );
    expect({ status: own.status, active: own.body.active }).toEqual({ status: 200, active: true });
    const ownUser = await app.call(
      'POST',
      INTROSPECT,
      form(q({ token: userToken, client_id: FIRST_PARTY }), { authorization: `Bearer ${userToken}` }),
    );
    expect({ status: ownUser.status, active: ownUser.body.active }).toEqual({ status: 200, active: true });
  });
});
