import { startTestApp, type TestApp } from './test-support/test-app';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(() => app.close());

const problem = (res: { headers: Headers; body: any }, status: number, code: string) => {
  expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  expect(res.body).toMatchObject({
    status,
    code,
    type: expect.any(String),
    title: expect.any(String),
    detail: expect.any(String),
  });
};

describe('authentication on /api/v1', () => {
  it('answers 401 with a Bearer challenge when the token is missing, malformed, forged or expired', async () => {
    const missing = await app.call('GET', '/api/v1/orgs', { token: null });
    expect(missing.status).toBe(401);
    expect(missing.headers.get('www-authenticate')).toMatch(/^Bearer /);
    problem(missing, 401, 'IAM_ERR_UNAUTHENTICATED');

    const garbage = await app.call('GET', '/api/v1/orgs', { token: 'not.a.token' });
    expect(garbage.status).toBe(401);
    expect(garbage.headers.get('www-authenticate')).toContain('error="invalid_token"');

    const [h, p] = app.adminToken.split('.');
    const forged = await app.call('GET', '/api/v1/orgs', { token: `${h}.${p}.${'A'.repeat(86)}` });
    expect(forged.status).toBe(401);

    const basic = await app.call('GET', '/api/v1/orgs', { token: null, headers: { authorization: 'Basic YTpi' } });
    expect(basic.status).toBe(401);
  });

  it('checks the token on every /api/v1 route, even unknown ones and bad input', async () => {
    expect(
      (
        await app.call('POST', '/api/v1/orgs', {
          token: null,
          rawBody: '{bad',
          headers: { 'content-type': 'application/json' },
        })
      ).status,
    ).toBe(401);
    expect((await app.call('GET', '/api/v1/events', { token: null })).status).toBe(401);
  });
});

describe('bad input', () => {
  it('rejects malformed JSON with 400', async () => {
    const res = await app.call('POST', '/api/v1/orgs', {
      rawBody: '{"name": "x",',
      headers: { 'content-type': 'application/json' },
    });
    expect(res.status).toBe(400);
    problem(res, 400, 'IAM_ERR_VALIDATION');
  });

  it('rejects unknown fields with 400 naming the field', async () => {
    const res = await app.call('POST', '/api/v1/orgs', { body: { name: 'x', colour: 'red' } });
    expect(res.status).toBe(400);
    problem(res, 400, 'IAM_ERR_VALIDATION');
    expect(res.body.errors).toEqual(expect.arrayContaining([expect.objectContaining({ path: '/body/colour' })]));
  });

  it('rejects missing and mistyped fields with 400 and a path for each', async () => {
    const missing = await app.call('POST', '/api/v1/orgs', { body: { description: 'no name' } });
    expect(missing.status).toBe(400);
    expect(missing.body.errors).toEqual(expect.arrayContaining([expect.objectContaining({ path: '/body/name' })]));
    const wrongType = await app.call('POST', '/api/v1/orgs', { body: { name: 42 } });
    expect(wrongType.status).toBe(400);
    const tooLong = await app.call('POST', '/api/v1/orgs', { body: { name: 'n'.repeat(201) } });
    expect(tooLong.status).toBe(400);
    const blank = await app.call('POST', '/api/v1/orgs', { body: { name: '   ' } });
    expect(blank.status).toBe(400);
    const metadata = await app.call('POST', '/api/v1/orgs', {
      body: { name: 'meta', metadata: { big: 'x'.repeat(5000) } },
    });
    expect(metadata.status).toBe(400);
    expect(metadata.body.errors[0].path).toBe('/body/metadata');
    const putWithoutParent = await app.call('PUT', '/api/v1/orgs/org_x', { body: { name: 'x' } });
    expect(putWithoutParent.status).toBe(400);
  });

  it('says in words what a value must be, never quoting a regular expression, one line per field', async () => {
    const org = (await app.call('POST', '/api/v1/orgs', { body: { name: 'Worded errors' } })).body;
    const errorsOf = async (method: string, path: string, body: unknown, headers: Record<string, string> = {}) => {
      const res = await app.call(method, path, { body, headers });
      expect([path, res.status]).toEqual([path, 400]);
      return res.body.errors;
    };
    expect(await errorsOf('POST', '/api/v1/orgs', { name: 'a\u0007b' })).toEqual([
      { path: '/body/name', message: 'must hold no control character and not be blank' },
    ]);
    expect(await errorsOf('POST', `/api/v1/orgs/${org.id}/permissions`, { name: 'orgs:read' })).toEqual([
      { path: '/body/name', message: expect.stringContaining("not one of Arbor's own (orgs, users,") },
    ]);
    expect(await errorsOf('POST', '/api/v1/orgs', { name: 'x', parentId: 'no such/id' })).toEqual([
      { path: '/body/parentId', message: 'must be an id: letters, digits, _ and - only' },
    ]);
    const subject = { type: 'group', id: 'g' };
    const evaluation = { subject, action: { name: 'orgs:read' }, resource: { type: 'organization', id: org.id } };
    expect(await errorsOf('POST', '/access/v1/evaluation', evaluation)).toEqual([
      { path: '/body/subject/type', message: 'must be one of "user", "client"' },
    ]);
    const renamed = await errorsOf(
      'PUT',
      `/api/v1/orgs/${org.id}`,
      { name: 'y', parentId: null },
      { 'if-match': 'nope' },
    );
    expect(renamed).toEqual([
      { path: '/headers/if-match', message: expect.stringMatching(/^must be \* or a list of/) },
    ]);
    for (const errors of [renamed, await errorsOf('POST', '/api/v1/orgs', { name: 'a\u0007b' })])
      expect(JSON.stringify(errors)).not.toMatch(/pattern|\^|\$/);
  });

  it('rejects bodies over 64 KiB with 413', async () => {
    const res = await app.call('POST', '/api/v1/orgs', { body: { name: 'big', description: 'x'.repeat(70 * 1024) } });
    expect(res.status).toBe(413);
    problem(res, 413, 'IAM_ERR_PAYLOAD_TOO_LARGE');
  });

  it('rejects other content types with 415', async () => {
    const res = await app.call('POST', '/api/v1/orgs', {
      rawBody: 'name=x',
      headers: { 'content-type': 'text/plain' },
    });
    expect(res.status).toBe(415);
    problem(res, 415, 'IAM_ERR_UNSUPPORTED_MEDIA_TYPE');
    expect(res.headers.get('accept-patch')).toBeNull();
  });

  it('names the patch documents it accepts in Accept-Patch on every 415 of a PATCH (RFC 5789 section 2.2)', async () => {
    const document = (await app.call('GET', '/api/v1/openapi.json', { token: null })).body;
    const patches = Object.entries(document.paths as Record<string, any>).filter(([, item]) => item.patch);
    expect(patches.length).toBeGreaterThanOrEqual(7);
    for (const [template, item] of patches) {
      const path = template.replace(/\{(\w+)\}/g, (_, name) => (name === 'name' ? 'billing:invoices:approve' : 'x_1'));
      const declared = Object.keys(item.patch.requestBody.content).join(', ');
      for (const headers of [
        { 'content-type': 'text/plain' },
        { 'content-type': 'application/json; charset=latin1' },
      ]) {
        const res = await app.call('PATCH', path, { rawBody: '{}', headers });
        expect([path, res.status, res.headers.get('accept-patch')]).toEqual([path, 415, declared]);
      }
      expect(item.patch.responses['415'].headers).toHaveProperty('Accept-Patch');
    }
  });

  it('refuses a PATCH that changes nothing ({}) with 400 on every PATCH, as its documented body says', async () => {
    const document = (await app.call('GET', '/api/v1/openapi.json', { token: null })).body;
    const schemas = document.components.schemas as Record<string, any>;
    for (const [template, item] of Object.entries(document.paths as Record<string, any>)) {
      if (!item.patch) continue;
      const path = template.replace(/\{(\w+)\}/g, (_, name) => (name === 'name' ? 'billing:invoices:approve' : 'x_1'));
      const res = await app.call('PATCH', path, { body: {} });
      expect([path, res.status, res.body.code]).toEqual([path, 400, 'IAM_ERR_VALIDATION']);
      const ref: string = item.patch.requestBody.content['application/json'].schema.$ref ?? '';
      const schema = schemas[ref.split('/').pop()!] ?? item.patch.requestBody.content['application/json'].schema;
      expect([path, (schema.minProperties ?? 0) >= 1 || (schema.required?.length ?? 0) >= 1]).toEqual([path, true]);
    }
  });

  it('rejects bad limits, cursors, depths and unknown query parameters with 400', async () => {
    for (const query of [
      'limit=0',
      'limit=201',
      'limit=abc',
      'limit=-1',
      'cursor=%%%',
      'colour=red',
      'limit=1&limit=2',
    ]) {
      const res = await app.call('GET', `/api/v1/orgs?${query}`);
      expect({ query, status: res.status }).toEqual({ query, status: 400 });
      expect(res.body.code).toBe('IAM_ERR_VALIDATION');
    }
    const root = (await app.call('POST', '/api/v1/orgs', { body: { name: 'Query checks' } })).body;
    for (const depth of ['0', '-1', 'none', '1.5']) {
      const res = await app.call('GET', `/api/v1/orgs/${root.id}/children?depth=${depth}`);
      expect({ depth, status: res.status }).toEqual({ depth, status: 400 });
    }
    expect((await app.call('GET', `/api/v1/orgs/${root.id}/children?cursor=bm90LWEtY3Vyc29y`)).status).toBe(400);
  });

  it('reads a numeric query parameter only in JSON number syntax: no hex, exponent, sign or spaces around it', async () => {
    const created = await app.call('POST', '/api/v1/orgs', { body: { name: 'Numeric query' } });
    const root = created.body;
    const position = Number(created.headers.get('arbor-position'));
    expect(position).toBeGreaterThan(0);
    const cases: Array<[string, string]> = [
      ['/api/v1/orgs', 'limit'],
      [`/api/v1/orgs/${root.id}/children`, 'depth'],
      [`/api/v1/orgs/${root.id}`, 'asOfPosition'],
      ['/api/v1/events', 'after'],
    ];
    for (const [path, name] of cases) {
      for (const value of ['0x10', '1e1', '1.0', '+5', '%205', '5%20', '05', '0b1', 'Infinity']) {
        const res = await app.call('GET', `${path}?${name}=${value}`);
        expect([path, name, value, res.status, res.body.errors?.[0]?.path]).toEqual([
          path,
          name,
          value,
          400,
          `/query/${name}`,
        ]);
      }
      const plain = name === 'asOfPosition' ? String(position) : '5';
      expect([path, name, (await app.call('GET', `${path}?${name}=${plain}`)).status]).toEqual([path, name, 200]);
    }
    expect((await app.call('GET', `/api/v1/orgs/${root.id}/children?depth=all`)).status).toBe(200);
    // A text parameter that happens to look like a number is text.
    expect((await app.call('GET', '/api/v1/orgs?q=0x10')).status).toBe(200);
  });

  it('answers 404 problem+json for unknown paths', async () => {
    const res = await app.call('GET', '/api/v1/nothing-here');
    expect(res.status).toBe(404);
    problem(res, 404, 'IAM_ERR_NOT_FOUND');
  });
});

describe('health and discovery', () => {
  it('serves /healthz and /readyz', async () => {
    const health = await app.call('GET', '/healthz', { token: null });
    expect(health.status).toBe(200);
    expect(health.body).toEqual({ status: 'ok' });
    const ready = await app.call('GET', '/readyz', { token: null });
    expect(ready.status).toBe(200);
  });

  it('serves an OpenAPI 3.1 document that covers every route it binds', async () => {
    const res = await app.call('GET', '/api/v1/openapi.json');
    expect(res.status).toBe(200);
    expect(res.body.openapi).toBe('3.1.0');
    const ops = Object.entries(res.body.paths as Record<string, Record<string, any>>).flatMap(([path, item]) =>
      Object.keys(item)
        .filter((k) => ['get', 'post', 'put', 'patch', 'delete'].includes(k))
        .map((m) => `${m.toUpperCase()} ${path}`),
    );
    for (const expected of [
      'POST /api/v1/auth/tokens',
      'POST /api/v1/orgs',
      'GET /api/v1/orgs',
      'GET /api/v1/orgs/{orgId}',
      'PUT /api/v1/orgs/{orgId}',
      'DELETE /api/v1/orgs/{orgId}',
      'GET /api/v1/orgs/{orgId}/children',
      'GET /api/v1/orgs/{orgId}/parents',
      'GET /api/v1/events',
      'POST /api/v1/auth/tokens/introspect',
      'POST /api/v1/auth/tokens/revoke',
      'POST /api/v1/orgs/{orgId}/users',
      'GET /api/v1/orgs/{orgId}/users',
      'GET /api/v1/orgs/{orgId}/users/{userId}',
      'PATCH /api/v1/orgs/{orgId}/users/{userId}',
      'DELETE /api/v1/orgs/{orgId}/users/{userId}',
      'GET /api/v1/users',
      'GET /api/v1/users/me',
      'GET /api/v1/users/{userId}',
      'GET /api/v1/users/{userId}/orgs',
      'POST /api/v1/oauth2/client-credentials',
      'GET /api/v1/oauth2/client-credentials',
      'DELETE /api/v1/oauth2/client-credentials/{clientCredentialId}',
    ])
      expect(ops).toContain(expected);
    // Request bodies are named schemas (issue 11): follow the $ref.
    const createOrg = res.body.paths['/api/v1/orgs'].post.requestBody.content['application/json'].schema;
    expect(res.body.components.schemas[createOrg.$ref.split('/').pop()].additionalProperties).toBe(false);
    // The token endpoint takes client_secret_basic, or no header at all (client_secret_post, public client).
    expect(res.body.paths['/api/v1/auth/tokens'].post.security).toEqual([{ clientBasic: [] }, {}]);
    // Contract section 1: POST honours Idempotency-Key; every POST of the API says so (the OAuth endpoints follow
    // RFC 6749/7009/7662 instead, and the AuthZEN questions write nothing).
    const posts = Object.entries(res.body.paths as Record<string, Record<string, any>>)
      .filter(([path, item]) => item.post && path.startsWith('/api/v1/') && !path.startsWith('/api/v1/auth/tokens'))
      .map(([path, item]) => ({
        path,
        keyed: (item.post.parameters ?? []).some((p: any) => p.in === 'header' && p.name === 'idempotency-key'),
      }));
    expect(posts.length).toBeGreaterThanOrEqual(9);
    expect(posts.filter((p) => !p.keyed).map((p) => p.path)).toEqual([]);
  });
});
