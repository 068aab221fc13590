import type { SampleServer } from './bind-routes.test-support';
import { bearer as auth, expectProblem, startSampleServer } from './bind-routes.test-support';

let server: SampleServer;
const json = { ...auth, 'content-type': 'application/json' };
const call: SampleServer['call'] = (method, path, init) => server.call(method, path, init);

beforeAll(async () => {
  server = await startSampleServer();
});

afterAll(() => server.close());

beforeEach(() => {
  server.ctx.calls.length = 0;
  server.log.mockClear();
});

describe('bindRoutes', () => {
  it('coerces path and query parameters and applies query defaults', async () => {
    const reply = await call('GET', '/orgs/7/children?limit=5', { headers: auth });
    expect(reply.status).toBe(200);
    expect(reply.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(reply.body).toEqual({ params: { orgId: 7 }, query: { limit: 5, archived: false }, auth: { sub: 'user-1' } });

    const flags = await call('GET', '/orgs/7/children?archived=true&cursor=abc', { headers: auth });
    expect(flags.body.query).toEqual({ limit: 20, archived: true, cursor: 'abc' });
  });

  it('matches paths as Express would: literals in any case, an optional trailing slash, HEAD by GET', async () => {
    expect((await call('GET', '/ORGS/7/Children/?limit=5', { headers: auth })).body.params).toEqual({ orgId: 7 });
    const head = await call('HEAD', '/orgs/7/children', { headers: auth });
    expect(head.status).toBe(200);
    expect(head.text).toBe('');
  });

  it('answers another method on a known path with 405 and Allow, and OPTIONS with 204 and Allow', async () => {
    const put = await call('PUT', '/orgs', { headers: json, body: '{}' });
    expectProblem(put, 405, 'IAM_ERR_METHOD_NOT_ALLOWED');
    expect(put.headers.get('allow')).toBe('POST');
    const options = await call('OPTIONS', '/orgs/7');
    expect(options.status).toBe(204);
    expect(options.headers.get('allow')).toBe('DELETE');
    expect(server.ctx.calls).toEqual([]);
  });

  it('rejects invalid path and query parameters with located errors', async () => {
    const badParam = await call('GET', '/orgs/zero/children', { headers: auth });
    expectProblem(badParam, 400, 'IAM_ERR_VALIDATION');
    expect(badParam.body.errors).toEqual([{ path: '/params/orgId', message: 'must be integer' }]);

    const badQuery = await call('GET', '/orgs/7/children?limit=500', { headers: auth });
    expectProblem(badQuery, 400, 'IAM_ERR_VALIDATION');
    expect(badQuery.body.errors).toEqual([{ path: '/query/limit', message: 'must be <= 100' }]);
    expect(server.ctx.calls).toEqual([]);
  });

  it('rejects unknown and repeated query parameters', async () => {
    const unknown = await call('GET', '/orgs/7/children?colour=red', { headers: auth });
    expectProblem(unknown, 400, 'IAM_ERR_VALIDATION');
    expect(unknown.body.errors).toEqual([{ path: '/query/colour', message: 'is not allowed' }]);

    const repeated = await call('GET', '/orgs/7/children?limit=1&limit=2', { headers: auth });
    expectProblem(repeated, 400, 'IAM_ERR_VALIDATION');
    expect(repeated.body.errors).toEqual([{ path: '/query/limit', message: 'must not be repeated' }]);

    const noQuerySchema = await call('PATCH', '/optional?x=1');
    expectProblem(noQuerySchema, 400, 'IAM_ERR_VALIDATION');
    expect(server.ctx.calls).toEqual([]);
  });

  it('accepts a valid JSON body and passes documented headers and result headers through', async () => {
    const reply = await call('POST', '/orgs', {
      headers: { ...auth, 'content-type': 'application/json; charset=UTF-8', 'idempotency-key': 'key-12345' },
      body: JSON.stringify({ name: 'Acme', size: 3 }),
    });
    expect(reply.status).toBe(201);
    expect(reply.headers.get('location')).toBe('/orgs/1');
    expect(reply.body).toEqual({ created: { name: 'Acme', size: 3 }, key: 'key-12345' });
  });

  it('names unknown and missing body fields, and does not coerce JSON types', async () => {
    const extra = await call('POST', '/orgs', { headers: json, body: JSON.stringify({ name: 'Acme', extra: 1 }) });
    expectProblem(extra, 400, 'IAM_ERR_VALIDATION');
    expect(extra.body.errors).toEqual([{ path: '/body/extra', message: 'is not allowed' }]);

    const missing = await call('POST', '/orgs', { headers: json, body: JSON.stringify({}) });
    expectProblem(missing, 400, 'IAM_ERR_VALIDATION');
    expect(missing.body.errors).toEqual([{ path: '/body/name', message: 'is required' }]);

    const stringly = await call('POST', '/orgs', { headers: json, body: JSON.stringify({ name: 'Acme', size: '3' }) });
    expect(stringly.body.errors).toEqual([{ path: '/body/size', message: 'must be integer' }]);
    expect(server.ctx.calls).toEqual([]);
  });

  it('validates documented request headers', async () => {
    const reply = await call('POST', '/orgs', {
      headers: { ...json, 'idempotency-key': 'short' },
      body: JSON.stringify({ name: 'A' }),
    });
    expectProblem(reply, 400, 'IAM_ERR_VALIDATION');
    expect(reply.body.errors).toEqual([
      { path: '/headers/idempotency-key', message: 'must NOT have fewer than 8 characters' },
    ]);

    const missing = await call('DELETE', '/orgs/1');
    expect(missing.body.errors).toEqual([{ path: '/headers/if-match', message: 'is required' }]);
  });

  it('refuses malformed JSON without echoing it', async () => {
    const reply = await call('POST', '/orgs', { headers: json, body: '{"name": "secret-value' });
    expectProblem(reply, 400, 'IAM_ERR_VALIDATION');
    expect(reply.body.detail).toMatch(/malformed JSON/);
    expect(reply.text).not.toContain('secret-value');
  });

  it('requires a body when the route does', async () => {
    const reply = await call('POST', '/orgs', { headers: json });
    expectProblem(reply, 400, 'IAM_ERR_VALIDATION');
    expect(reply.body.errors).toEqual([{ path: '/body', message: 'is required' }]);

    const optional = await call('PATCH', '/optional');
    expect(optional.status).toBe(200);
    expect(optional.body).toEqual({ body: null });
  });

  it('answers 413 for bodies over the limit, declared or streamed', async () => {
    const big = JSON.stringify({ name: 'x'.repeat(70 * 1024) });
    expectProblem(await call('POST', '/orgs', { headers: json, body: big }), 413, 'IAM_ERR_PAYLOAD_TOO_LARGE');

    const chunk = new TextEncoder().encode('x'.repeat(16 * 1024));
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent++ < 8) controller.enqueue(chunk);
        else controller.close();
      },
    });
    expectProblem(await call('POST', '/orgs', { headers: json, body: stream }), 413, 'IAM_ERR_PAYLOAD_TOO_LARGE');
    expect(server.ctx.calls).toEqual([]);

    // The connection stays usable after a refused upload.
    expect((await call('GET', '/orgs/7/children', { headers: auth })).status).toBe(200);
  });

  it('answers 415 for undeclared or missing content types', async () => {
    const text = await call('POST', '/orgs', {
      headers: { ...auth, 'content-type': 'text/plain' },
      body: '{"name":"A"}',
    });
    expectProblem(text, 415, 'IAM_ERR_UNSUPPORTED_MEDIA_TYPE');

    const none = await call('POST', '/orgs', { headers: auth, body: new Uint8Array(Buffer.from('{"name":"A"}')) });
    expectProblem(none, 415, 'IAM_ERR_UNSUPPORTED_MEDIA_TYPE');

    const jsonOnForm = await call('POST', '/token', {
      headers: { 'content-type': 'application/json' },
      body: '{"grant_type":"password"}',
    });
    expectProblem(jsonOnForm, 415, 'IAM_ERR_UNSUPPORTED_MEDIA_TYPE');
    expect(server.ctx.calls).toEqual([]);
  });

  it('parses and coerces form bodies on routes that declare them', async () => {
    const reply = await call('POST', '/token', {
      body: new URLSearchParams({ grant_type: 'password', username: 'ann', ttl: '60' }),
    });
    expect(reply.status).toBe(200);
    expect(reply.body).toEqual({ form: { grant_type: 'password', username: 'ann', ttl: 60 }, auth: null });

    const repeated = await call('POST', '/token', {
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=password&password=a&password=b',
    });
    expectProblem(repeated, 400, 'IAM_ERR_VALIDATION');
    expect(repeated.body.errors).toEqual([{ path: '/body/password', message: 'must not be repeated' }]);
  });

  it('authenticates before validating anything and forwards the problem headers', async () => {
    const reply = await call('POST', '/orgs', { headers: { 'content-type': 'application/json' }, body: '{not json' });
    expectProblem(reply, 401, 'IAM_ERR_UNAUTHENTICATED');
    expect(reply.headers.get('www-authenticate')).toBe('Bearer');
    expect(server.ctx.calls).toEqual([]);
    expect(server.log).not.toHaveBeenCalled();
  });

  it('renders thrown domain errors through mapError', async () => {
    const reply = await call('POST', '/orgs', { headers: json, body: JSON.stringify({ name: 'taken' }) });
    expectProblem(reply, 409, 'IAM_ERR_NAME_TAKEN');
    expect(reply.body.detail).toBe('The name is taken.');
  });

  it('hides unexpected errors from the client and logs them without the request', async () => {
    const reply = await call('POST', '/boom', {
      headers: { 'content-type': 'application/json', authorization: 'Bearer tok-SECRET' },
      body: JSON.stringify({ password: 'pw-SECRET' }),
    });
    expectProblem(reply, 500, 'IAM_ERR_INTERNAL');
    expect(reply.text).not.toMatch(/hunter2|\bat \S+ \(|\.ts:\d+/);
    expect(reply.body).not.toHaveProperty('stack');

    expect(server.log).toHaveBeenCalledTimes(1);
    const [, fields] = server.log.mock.calls[0];
    expect(fields).toMatchObject({
      operationId: 'boom',
      status: 500,
      error: { message: expect.stringContaining('hunter2') },
    });
    expect(fields.error.stack).toContain('at ');
    expect(JSON.stringify(server.log.mock.calls)).not.toMatch(/SECRET/);
  });

  it('turns responses that break the declared contract into 500s', async () => {
    const bad = await call('GET', '/bad-response');
    expectProblem(bad, 500, 'IAM_ERR_INTERNAL');
    expect(server.log.mock.calls[0][1].error.message).toContain('/response/id must be string');

    expectProblem(await call('GET', '/undeclared-status'), 500, 'IAM_ERR_INTERNAL');
    expect(server.log).toHaveBeenCalledTimes(2);
  });

  it('never sends a body with 204', async () => {
    const res = await fetch(`${server.base}/orgs/1`, { method: 'DELETE', headers: { 'if-match': '"3"' } });
    expect(res.status).toBe(204);
    expect(res.headers.get('content-type')).toBeNull();
    expect(await res.text()).toBe('');
  });
});
