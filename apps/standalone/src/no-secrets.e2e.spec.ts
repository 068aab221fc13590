import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { Logger } from '@arbor/application';
import { startStandalone, type RunningStandalone } from './start-standalone';
import { ADMIN_EMAIL, ADMIN_PASSWORD } from './test-support/test-app';

/**
 * Contract section 6: "No response or event ever holds a password, a password hash, a client secret or a
 * private key", and no log line may either. A realistic session runs against a server whose every log call
 * and every HTTP response is recorded; then the records, the event log (API and raw SQLite bytes) are searched.
 */

const USER_EMAIL = 'Quiet.Member@no-secrets.test';
const USER_PASSWORD = 'member pass phrase 7731';
const WRONG_PASSWORD = 'wrong guess phrase 4411';
const NEW_USER_TYPO_PASSWORD = 'typo user pass 9983';

interface Exchange {
  method: string;
  path: string;
  status: number;
  /** Response headers and body as received. */
  text: string;
}

const logLines: string[] = [];
const exchanges: Exchange[] = [];
const secrets = {
  clientSecrets: [] as string[],
  refreshTokens: [] as string[],
  accessTokens: [] as string[],
  vaultHashes: [] as string[],
};
let running: RunningStandalone;
let dataDir: string;
let adminToken: string;
let clientCreationIndex = -1;
const eventItems: any[] = [];
let eventBytes: Buffer[] = [];

const capturingLogger: Logger = {
  info: (message, fields) => logLines.push(JSON.stringify({ level: 'info', message, fields })),
  warn: (message, fields) => logLines.push(JSON.stringify({ level: 'warn', message, fields })),
  error: (message, fields) => logLines.push(JSON.stringify({ level: 'error', message, fields })),
};

async function call(
  method: string,
  path: string,
  options: {
    body?: unknown;
    form?: Record<string, string>;
    token?: string | null;
    headers?: Record<string, string>;
  } = {},
) {
  const headers: Record<string, string> = { ...options.headers };
  const token = options.token === undefined ? adminToken : options.token;
  if (token) headers.authorization = `Bearer ${token}`;
  let body: string | undefined;
  if (options.form) {
    body = new URLSearchParams(options.form).toString();
    headers['content-type'] = 'application/x-www-form-urlencoded';
  } else if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers['content-type'] = 'application/json';
  }
  const res = await fetch(running.url + path, { method, headers, body });
  const text = await res.text();
  exchanges.push({ method, path, status: res.status, text: `${JSON.stringify([...res.headers])}\n${text}` });
  const parsed = text ? JSON.parse(text) : undefined;
  if (parsed?.access_token) secrets.accessTokens.push(parsed.access_token);
  if (parsed?.refresh_token) secrets.refreshTokens.push(parsed.refresh_token);
  return { status: res.status, body: parsed };
}

async function expectStatus(expected: number, pending: ReturnType<typeof call>) {
  const res = await pending;
  expect(res.status).toBe(expected);
  return res.body;
}

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'arbor-no-secrets-'));
  running = await startStandalone(
    {
      port: 0,
      host: '127.0.0.1',
      dataDir,
      issuer: 'http://arbor.test',
      bootstrapAdminEmail: ADMIN_EMAIL,
      bootstrapAdminPassword: ADMIN_PASSWORD,
      passwordCostLog2: 10,
      logLevel: 'info',
      validateResponses: true,
    },
    capturingLogger,
  );

  // The platform admin logs in and builds an organization with a member and a client.
  adminToken = (
    await expectStatus(
      200,
      call('POST', '/api/v1/auth/tokens', {
        token: null,
        form: { grant_type: 'password', username: ADMIN_EMAIL, password: ADMIN_PASSWORD },
      }),
    )
  ).access_token;
  const org = await expectStatus(201, call('POST', '/api/v1/orgs', { body: { name: 'Quiet Corp', parentId: null } }));
  const member = await expectStatus(
    201,
    call('POST', `/api/v1/orgs/${org.id}/users`, {
      body: { email: USER_EMAIL, name: 'Quiet Member', password: USER_PASSWORD, roles: ['member'] },
    }),
  );
  // A rejected request that carries a password: the problem document must not echo it.
  await expectStatus(
    400,
    call('POST', `/api/v1/orgs/${org.id}/users`, {
      body: {
        email: 'typo@no-secrets.test',
        name: 'Typo',
        password: NEW_USER_TYPO_PASSWORD,
        roles: ['member'],
        nickname: 'x',
      },
    }),
  );
  const idempotencyKey = 'no-secrets-client-1';
  const clientBody = { name: 'quiet worker', orgId: org.id, scopes: ['orgs:read', 'events:read'] };
  clientCreationIndex = exchanges.length;
  const client = await expectStatus(
    201,
    call('POST', '/api/v1/oauth2/client-credentials', {
      body: clientBody,
      headers: { 'idempotency-key': idempotencyKey },
    }),
  );
  secrets.clientSecrets.push(client.clientSecret);
  await expectStatus(
    201,
    call('POST', '/api/v1/oauth2/client-credentials', {
      body: clientBody,
      headers: { 'idempotency-key': idempotencyKey },
    }),
  );
  await expectStatus(200, call('GET', `/api/v1/oauth2/client-credentials?orgId=${org.id}`));

  // Whatever the vault stores for them must stay in the vault.
  const vault = new Database(join(dataDir, 'vault.sqlite'), { readonly: true });
  try {
    secrets.vaultHashes.push(...(vault.prepare('SELECT hash FROM password_hashes').pluck().all() as string[]));
    secrets.vaultHashes.push(...(vault.prepare('SELECT hash FROM client_secrets').pluck().all() as string[]));
  } finally {
    vault.close();
  }
  expect(secrets.vaultHashes.length).toBeGreaterThanOrEqual(3);

  // The member logs in (once wrongly), refreshes, reads their profile; a spent refresh token comes back.
  await expectStatus(
    400,
    call('POST', '/api/v1/auth/tokens', {
      token: null,
      form: { grant_type: 'password', username: USER_EMAIL, password: WRONG_PASSWORD },
    }),
  );
  const login = await expectStatus(
    200,
    call('POST', '/api/v1/auth/tokens', {
      token: null,
      form: { grant_type: 'password', username: USER_EMAIL, password: USER_PASSWORD },
    }),
  );
  const rotated = await expectStatus(
    200,
    call('POST', '/api/v1/auth/tokens', {
      token: null,
      form: { grant_type: 'refresh_token', refresh_token: login.refresh_token },
    }),
  );
  await expectStatus(200, call('GET', '/api/v1/users/me', { token: rotated.access_token }));
  await expectStatus(200, call('GET', `/api/v1/users/${member.userId}`));
  await expectStatus(200, call('GET', `/api/v1/orgs/${org.id}/users`));
  await expectStatus(200, call('POST', '/api/v1/auth/tokens/introspect', { body: { token: rotated.refresh_token } }));
  await expectStatus(
    400,
    call('POST', '/api/v1/auth/tokens', {
      token: null,
      form: { grant_type: 'refresh_token', refresh_token: login.refresh_token },
    }),
  );
  const again = await expectStatus(
    200,
    call('POST', '/api/v1/auth/tokens', {
      token: null,
      body: { grant_type: 'password', username: USER_EMAIL, password: USER_PASSWORD },
    }),
  );
  await expectStatus(
    200,
    call('POST', '/api/v1/auth/tokens/revoke', {
      token: again.access_token,
      form: { token: again.refresh_token, token_type_hint: 'refresh_token' },
    }),
  );
  await expectStatus(401, call('GET', '/api/v1/users/me', { token: again.access_token }));

  // The client works with both authentication methods, fails once, introspects, and is deleted.
  const basic = `Basic ${Buffer.from(`${client.clientId}:${client.clientSecret}`).toString('base64')}`;
  const cc = await expectStatus(
    200,
    call('POST', '/api/v1/auth/tokens', {
      token: null,
      headers: { authorization: basic },
      form: { grant_type: 'client_credentials' },
    }),
  );
  await expectStatus(
    200,
    call('POST', '/api/v1/auth/tokens', {
      token: null,
      form: { grant_type: 'client_credentials', client_id: client.clientId, client_secret: client.clientSecret },
    }),
  );
  await expectStatus(
    401,
    call('POST', '/api/v1/auth/tokens', {
      token: null,
      form: { grant_type: 'client_credentials', client_id: client.clientId, client_secret: `${client.clientSecret}x` },
    }),
  );
  await expectStatus(200, call('GET', `/api/v1/events?orgId=${org.id}`, { token: cc.access_token }));
  await expectStatus(
    200,
    call('POST', '/api/v1/auth/tokens/introspect', {
      token: null,
      headers: { authorization: basic },
      form: { token: cc.access_token },
    }),
  );
  await expectStatus(
    200,
    call('POST', '/api/v1/auth/tokens/introspect', {
      token: null,
      form: { token: rotated.access_token, client_id: client.clientId, client_secret: client.clientSecret },
    }),
  );
  await expectStatus(204, call('DELETE', `/api/v1/oauth2/client-credentials/${client.id}`));
  await expectStatus(
    401,
    call('POST', '/api/v1/auth/tokens', {
      token: null,
      headers: { authorization: basic },
      form: { grant_type: 'client_credentials' },
    }),
  );
  await expectStatus(401, call('GET', `/api/v1/orgs/${org.id}`, { token: cc.access_token }));
  await expectStatus(200, call('GET', '/.well-known/jwks.json', { token: null }));
  await expectStatus(200, call('GET', '/.well-known/oauth-authorization-server', { token: null }));

  // Read the whole event log through the API (these responses are checked too), then the raw files.
  let cursor: string | null = null;
  do {
    const page: any = await expectStatus(
      200,
      call('GET', `/api/v1/events?limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`),
    );
    eventItems.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor);
  const readEventFiles = () =>
    ['events.sqlite', 'events.sqlite-wal']
      .map((f) => join(dataDir, f))
      .filter(existsSync)
      .map((f) => readFileSync(f));
  eventBytes = readEventFiles();
  await running.close();
  // After close the WAL is checkpointed into the main file: read that state as well.
  eventBytes.push(...readEventFiles());
});
afterAll(() => running?.close());

const passwords = [ADMIN_PASSWORD, USER_PASSWORD, WRONG_PASSWORD, NEW_USER_TYPO_PASSWORD];

/** Every needle found in the haystack, by name, so a failure says what leaked. */
function leaks(haystack: string, needles: Record<string, string[]>): string[] {
  const found: string[] = [];
  for (const [kind, values] of Object.entries(needles))
    for (const v of values) if (v && haystack.includes(v)) found.push(`${kind}: ${v.slice(0, 12)}…`);
  return found;
}

describe('no secrets leak', () => {
  it('drove the whole session', () => {
    expect(secrets.clientSecrets).toHaveLength(1);
    expect(secrets.refreshTokens.length).toBeGreaterThanOrEqual(3);
    expect(secrets.accessTokens.length).toBeGreaterThanOrEqual(5);
    expect(exchanges.length).toBeGreaterThanOrEqual(25);
    expect(logLines.length).toBeGreaterThan(0);
    expect(eventItems.map((e) => e.type)).toEqual(
      expect.arrayContaining(['UserCreated', 'ClientCredentialIssued', 'ClientCredentialRevoked']),
    );
  });

  it('shows the client secret in its creation response only', () => {
    expect(exchanges[clientCreationIndex].text).toContain(secrets.clientSecrets[0]);
    const showing = exchanges
      .filter((x, i) => i !== clientCreationIndex && x.text.includes(secrets.clientSecrets[0]))
      .map((x) => `${x.method} ${x.path} ${x.status}`);
    expect(showing).toEqual([]);
  });

  it('never answers with a password, a password hash, a stored secret hash or a private key', () => {
    const found = exchanges.flatMap((x) =>
      [
        ...leaks(x.text, { password: passwords, 'vault hash': secrets.vaultHashes }),
        ...(/\$scrypt\$/.test(x.text) ? ['$scrypt$'] : []),
        ...(/"d"\s*:/.test(x.text) ? ['JWK "d"'] : []),
        ...(/PRIVATE KEY/.test(x.text) ? ['PRIVATE KEY'] : []),
      ].map((leak) => `${x.method} ${x.path} ${x.status}: ${leak}`),
    );
    expect(found).toEqual([]);
  });

  it('never logs a password, a client secret, a token, a hash or a private key', () => {
    const found = logLines.flatMap((line) =>
      [
        ...leaks(line, {
          password: passwords,
          'client secret': secrets.clientSecrets,
          'refresh token': secrets.refreshTokens,
          'access token': secrets.accessTokens,
          'vault hash': secrets.vaultHashes,
        }),
        ...(/\$scrypt\$/.test(line) ? ['$scrypt$'] : []),
        ...(/PRIVATE KEY/.test(line) ? ['PRIVATE KEY'] : []),
      ].map((leak) => `${leak} in ${line.slice(0, 120)}`),
    );
    expect(found).toEqual([]);
  });

  const eventNeedles = () => ({
    password: passwords,
    'client secret': secrets.clientSecrets,
    'refresh token': secrets.refreshTokens,
    email: [USER_EMAIL, USER_EMAIL.toLowerCase(), ADMIN_EMAIL],
    'vault hash': secrets.vaultHashes,
    hash: ['$scrypt$'],
  });

  it('keeps them all out of the event log as the API serves it', () => {
    const found = eventItems.flatMap((e) =>
      leaks(JSON.stringify(e), eventNeedles()).map((leak) => `${e.type}#${e.position}: ${leak}`),
    );
    expect(found).toEqual([]);
  });

  it('keeps them all out of the raw event store files, WAL included', () => {
    expect(eventBytes.length).toBeGreaterThanOrEqual(2);
    const found = eventBytes.flatMap((bytes, i) => {
      // Every needle is ASCII, so a byte-for-byte (latin1) view finds it wherever SQLite stored it as UTF-8.
      const text = bytes.toString('latin1');
      return leaks(text, eventNeedles()).map((leak) => `file #${i}: ${leak}`);
    });
    expect(found).toEqual([]);
  });
});
