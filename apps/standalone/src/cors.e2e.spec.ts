import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { freePort, type DistributedStack } from './test-support/distributed-stack';
import { startTestApp, type TestApp } from './test-support/test-app';

/*
 * CORS (issue 11, item 9): browser apps on other origins may read the public documents (discovery metadata,
 * JWKS, the OpenAPI document) from anywhere, and call the API from the origins the operator lists in
 * IAM_CORS_ORIGINS, in both profiles.
 */
const APP_ORIGIN = 'https://app.example.test';
const OTHER_ORIGIN = 'https://evil.example.test';
let app: TestApp;

beforeAll(async () => {
  app = await startTestApp({ corsOrigins: [APP_ORIGIN, 'http://localhost:3000'] });
});
afterAll(() => app?.close());

const preflight = (path: string, origin: string, method: string, headers = 'authorization, content-type') =>
  fetch(app.url + path, {
    method: 'OPTIONS',
    headers: { origin, 'access-control-request-method': method, 'access-control-request-headers': headers },
  });

describe('public documents allow every origin', () => {
  it.each(['/.well-known/jwks.json', '/.well-known/oauth-authorization-server', '/api/v1/openapi.json'])(
    '%s: GET and its preflight',
    async (path) => {
      const res = await app.call('GET', path, { token: null, headers: { origin: OTHER_ORIGIN } });
      expect(res.status).toBe(200);
      expect(res.headers.get('access-control-allow-origin')).toBe('*');
      const pre = await preflight(path, OTHER_ORIGIN, 'GET', 'accept');
      expect(pre.status).toBe(204);
      expect(pre.headers.get('access-control-allow-origin')).toBe('*');
    },
  );
});

describe('the API allows the configured origins only', () => {
  it('answers a configured origin, names it, and says the answer varies by Origin', async () => {
    const res = await app.call('GET', '/api/v1/orgs', { headers: { origin: APP_ORIGIN } });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe(APP_ORIGIN);
    expect(res.headers.get('vary')).toMatch(/\bOrigin\b/);
    // What a browser script needs to read besides the safelisted headers.
    expect(res.headers.get('access-control-expose-headers')).toMatch(/\bETag\b/);
    expect(res.headers.get('access-control-allow-credentials')).toBeNull();
  });

  it('lets a configured origin read failures too (a 401 problem, an OAuth error)', async () => {
    const unauthenticated = await app.call('GET', '/api/v1/orgs', {
      token: null,
      headers: { origin: 'http://localhost:3000' },
    });
    expect(unauthenticated.status).toBe(401);
    expect(unauthenticated.headers.get('access-control-allow-origin')).toBe('http://localhost:3000');
    const token = await app.call('POST', '/api/v1/auth/tokens', {
      token: null,
      headers: { origin: APP_ORIGIN },
      body: { grant_type: 'nope' },
    });
    expect(token.status).toBe(400);
    expect(token.headers.get('access-control-allow-origin')).toBe(APP_ORIGIN);
  });

  it('answers the preflight of a configured origin with the methods and headers the API takes', async () => {
    const res = await preflight(
      '/api/v1/orgs/some-org',
      APP_ORIGIN,
      'PATCH',
      'authorization, content-type, if-match, idempotency-key',
    );
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe(APP_ORIGIN);
    expect(res.headers.get('access-control-allow-methods')).toMatch(/\bPATCH\b/);
    const allowed = (res.headers.get('access-control-allow-headers') ?? '').toLowerCase();
    for (const header of ['authorization', 'content-type', 'if-match', 'idempotency-key'])
      expect(allowed).toContain(header);
    expect(res.headers.get('vary')).toMatch(/\bOrigin\b/);
  });

  it('gives another origin no CORS header, so its browser withholds the answer', async () => {
    const res = await app.call('GET', '/api/v1/orgs', { headers: { origin: OTHER_ORIGIN } });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
    expect(res.headers.get('vary')).toMatch(/\bOrigin\b/);
    const pre = await preflight('/api/v1/orgs', OTHER_ORIGIN, 'POST');
    expect(pre.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('keeps answering 404 to a preflight of a path that does not exist', async () => {
    expect((await preflight('/api/v1/nothing-here', APP_ORIGIN, 'GET')).status).toBe(404);
  });
});

describe('IAM_CORS_ORIGINS is checked at start', () => {
  it('refuses an entry that is not an origin (the gateway exits; the embedded config throws)', async () => {
    if (app.profile === 'embedded') {
      const { configFromEnv } = await import('./standalone-config');
      expect(() => configFromEnv({ IAM_CORS_ORIGINS: 'https://app.example.test/' })).toThrow('IAM_CORS_ORIGINS');
      return;
    }
    const stack = app.running as DistributedStack;
    const port = await freePort();
    const root = resolve(__dirname, '../../..');
    const child = spawn(process.execPath, [join(root, 'apps/gateway/dist/main.js')], {
      cwd: root,
      env: { ...stack.env, PORT: String(port), IAM_CORS_ORIGINS: '*' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    const code = await new Promise<number | null>((done) => child.once('exit', done));
    clearTimeout(timer);
    expect(code).toBe(1);
    expect(stderr).toContain('IAM_CORS_ORIGINS');
  });
});

describe('without IAM_CORS_ORIGINS', () => {
  it('the API sends no CORS header (none allowed by default)', async () => {
    // The default is the same code in both profiles; a second distributed stack would only cost time.
    if (app.profile === 'distributed') return;
    const plain = await startTestApp();
    try {
      const res = await plain.call('GET', '/api/v1/orgs', { headers: { origin: APP_ORIGIN } });
      expect(res.status).toBe(200);
      expect(res.headers.get('access-control-allow-origin')).toBeNull();
      expect(
        (await plain.call('GET', '/.well-known/jwks.json', { headers: { origin: APP_ORIGIN } })).headers.get(
          'access-control-allow-origin',
        ),
      ).toBe('*');
    } finally {
      await plain.close();
    }
  });
});
