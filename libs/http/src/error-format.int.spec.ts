import { bindRoutes } from './bind-routes';
import type { SampleServer } from './bind-routes.test-support';
import { bearer as auth, expectProblem, mapError, startSampleServer } from './bind-routes.test-support';
import { defineRoute } from './route-definition';

/** A route's declared `errorFormat` and `responseHeaders`, and the body rules every route shares. */

let server: SampleServer;
beforeAll(async () => {
  server = await startSampleServer();
});
afterAll(() => server.close());

const TOKEN = '/oauth2/token';
const form = { 'content-type': 'application/x-www-form-urlencoded' };
const json = { 'content-type': 'application/json' };

/** RFC 6749 section 5.2, never cached. */
function expectOAuthError(reply: { status: number; headers: Headers; body: any }, status: number, error: string): void {
  expect({ status: reply.status, type: reply.headers.get('content-type'), error: reply.body.error }).toEqual({
    status,
    type: 'application/json; charset=utf-8',
    error,
  });
  expect(Object.keys(reply.body).sort()).toEqual(['error', 'error_description']);
  expect(reply.body.error_description).toMatch(/^[\x20\x21\x23-\x5b\x5d-\x7e]+$/);
  expect([reply.headers.get('cache-control'), reply.headers.get('pragma')]).toEqual(['no-store', 'no-cache']);
}

describe("errorFormat: 'oauth2'", () => {
  it('renders every failure before the handler as invalid_request, keeping the status', async () => {
    expectOAuthError(
      await server.call('POST', TOKEN, { headers: json, body: '{"grant_type":' }),
      400,
      'invalid_request',
    );
    expectOAuthError(
      await server.call('POST', TOKEN, { headers: json, body: '{"grant_type": 7}' }),
      400,
      'invalid_request',
    );
    expectOAuthError(
      await server.call('POST', TOKEN, { headers: json, body: '{"grant_type": "a", "grant_type": "b"}' }),
      400,
      'invalid_request',
    );
    expectOAuthError(
      await server.call('POST', TOKEN, { headers: form, body: 'grant_type=a&grant_type=a' }),
      400,
      'invalid_request',
    );
    expectOAuthError(
      await server.call('POST', TOKEN, { headers: form, body: `grant_type=${'x'.repeat(70_000)}` }),
      413,
      'invalid_request',
    );
    expectOAuthError(
      await server.call('POST', TOKEN, { headers: { 'content-type': 'text/plain' }, body: 'x' }),
      415,
      'invalid_request',
    );
    expect(server.ctx.calls).toEqual([]);
  });

  it('renders a thrown error as server_error without its message, and 405 as invalid_request with Allow', async () => {
    const boom = await server.call('POST', TOKEN, { headers: form, body: 'grant_type=boom' });
    expectOAuthError(boom, 500, 'server_error');
    expect(boom.text).not.toContain('secret');
    const get = await server.call('GET', TOKEN);
    expectOAuthError(get, 405, 'invalid_request');
    expect(get.headers.get('allow')).toBe('POST');
    const options = await server.call('OPTIONS', TOKEN);
    expect([options.status, options.headers.get('allow'), options.headers.get('cache-control')]).toEqual([
      204,
      'POST',
      'no-store',
    ]);
  });

  it('sends the declared headers on success too, before the handler’s own, and collects repeatable fields as arrays', async () => {
    const reply = await server.call('POST', TOKEN, {
      headers: form,
      body: 'grant_type=a&resource=https://a.test&resource=https://b.test',
    });
    expect(reply.status).toBe(200);
    expect(reply.body.form).toEqual({ grant_type: 'a', resource: ['https://a.test', 'https://b.test'] });
    expect([reply.headers.get('cache-control'), reply.headers.get('x-handler')]).toEqual(['no-store', 'yes']);
    const once = await server.call('POST', TOKEN, { headers: form, body: 'resource=https://a.test' });
    expect(once.body.form).toEqual({ resource: ['https://a.test'] });
  });
});

describe('the default format', () => {
  it('refuses a JSON body repeating a member name, at any depth, naming it; siblings may share names', async () => {
    const headers = { ...auth, ...json };
    const top = await server.call('POST', '/orgs', { headers, body: '{"name": "a", "name": "b"}' });
    expectProblem(top, 400, 'IAM_ERR_VALIDATION');
    expect(top.body.errors).toEqual([{ path: '/body/name', message: 'must not be repeated' }]);
    const nested = await server.call('PATCH', '/optional', { headers: json, body: '{"a": [{"b/c": 1, "b/c": 2}]}' });
    expectProblem(nested, 400, 'IAM_ERR_VALIDATION');
    expect(nested.body.errors).toEqual([{ path: '/body/a/0/b~1c', message: 'must not be repeated' }]);
    const siblings = await server.call('PATCH', '/optional', {
      headers: json,
      body: '{"a": {"k": 1}, "b": {"k": 2}, "c": [{"k": 1}, {"k": 2}]}',
    });
    expect(siblings.status).toBe(200);
  });

  it('refuses at bind time two routes on one path that disagree on the error format', () => {
    const route = (method: 'get' | 'post', errorFormat: 'problem' | 'oauth2') =>
      defineRoute<unknown>({
        operationId: method,
        method,
        path: '/x',
        summary: 'x',
        auth: 'none',
        errorFormat,
        responses: {},
        handler: async () => ({ status: 200 }),
      });
    const bind = (errorFormat: 'problem' | 'oauth2') =>
      bindRoutes([route('get', 'oauth2'), route('post', errorFormat)], {
        ctx: {},
        authenticate: async () => undefined,
        mapError,
      });
    expect(() => bind('problem')).toThrow('errorFormat');
    expect(() => bind('oauth2')).not.toThrow();
  });
});
