import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import Database from 'better-sqlite3';
import { startStandalone, type RunningStandalone } from './start-standalone';
import { ADMIN_EMAIL, ADMIN_PASSWORD, createOrg, startTestApp } from './test-support/test-app';

/**
 * Nothing secret and nothing personal at rest outside the vault and the subjects' own keys: after a session
 * that touches every kind of stored data (users with passwords, an idempotent member creation and its
 * replays, a rename, logins, refreshes, a client credential, clean restarts that write command-model
 * snapshots), every file under IAM_DATA_DIR except the read models (derived, searchable by design,
 * re-projected on erasure) is searched for every password, secret, token, email and name used: in clear
 * (UTF-8 and UTF-16LE) and as a plain SHA-256 (hex, base64, base64url). Embedded only: it reads the files.
 */

const MEMBER = { email: 'Ysolde.Varnaby@at-rest.test', name: 'Ysolde Varnaby', password: 'quill lantern 5581 meadow' };
const SECOND = {
  email: 'orrin.kettleworth@at-rest.test',
  name: 'Orrin Kettleworth',
  password: 'copper sleet 2294 harbour',
};
const RENAMED = 'Ysolde Varnaby-Quill';
const WRONG_PASSWORD = 'wrong guess 7713 thistle';
const ADMIN_NAME = 'Platform admin';

let dataDir: string;
let running: RunningStandalone | undefined;
const secrets = { clientSecrets: [] as string[], refreshTokens: [] as string[] };
/** The idempotent request as the server hashed it before: method, path, canonical JSON body. */
let memberRequestText = '';
let firstBody: unknown;
const replays: Array<{ status: number; replayed: string | null; body: unknown }> = [];
/** Every file but the read models, read while the server ran (WAL files included) and after each stop. */
const files: Array<{ name: string; bytes: Buffer }> = [];

async function start(): Promise<RunningStandalone> {
  running = await startStandalone({
    port: 0,
    host: '127.0.0.1',
    dataDir,
    issuer: 'http://arbor.test',
    bootstrapAdminEmail: ADMIN_EMAIL,
    bootstrapAdminPassword: ADMIN_PASSWORD,
    passwordCostLog2: 10,
    logLevel: 'silent',
    validateResponses: true,
  });
  return running;
}

async function stop(): Promise<void> {
  await running?.close();
  running = undefined;
  readFiles();
}

async function call(
  method: string,
  path: string,
  options: { body?: unknown; form?: Record<string, string>; token?: string; headers?: Record<string, string> } = {},
) {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  let body: string | undefined;
  if (options.form) {
    body = new URLSearchParams(options.form).toString();
    headers['content-type'] = 'application/x-www-form-urlencoded';
  } else if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers['content-type'] = 'application/json';
  }
  const res = await fetch(running!.url + path, { method, headers, body });
  const text = await res.text();
  const parsed = text ? JSON.parse(text) : undefined;
  if (parsed?.refresh_token) secrets.refreshTokens.push(parsed.refresh_token);
  return { status: res.status, headers: res.headers, body: parsed };
}

async function ok(expected: number, pending: ReturnType<typeof call>) {
  const res = await pending;
  if (res.status !== expected) throw new Error(`expected ${expected}, got ${res.status}: ${JSON.stringify(res.body)}`);
  return res;
}

const login = (username: string, password: string) =>
  call('POST', '/api/v1/auth/tokens', { form: { grant_type: 'password', username, password } });

function readFiles(): void {
  const walk = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)],
    );
  for (const file of walk(dataDir)) {
    const name = relative(dataDir, file);
    if (name.startsWith('read-models.sqlite')) continue;
    if (existsSync(file) && statSync(file).isFile()) files.push({ name, bytes: readFileSync(file) });
  }
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object')
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(value ?? null);
}

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'arbor-at-rest-'));
  await start();
  const admin = (await ok(200, login(ADMIN_EMAIL, ADMIN_PASSWORD))).body.access_token as string;
  const org = (
    await ok(201, call('POST', '/api/v1/orgs', { token: admin, body: { name: 'Rest Corp', parentId: null } }))
  ).body;

  // A member created with an Idempotency-Key, replayed at once (the stored response) and after restarts.
  const memberBody = { email: MEMBER.email, name: MEMBER.name, password: MEMBER.password, roles: ['member'] };
  const idempotent = { token: admin, body: memberBody, headers: { 'idempotency-key': 'at-rest-member-1' } };
  memberRequestText = `POST /api/v1/orgs/${org.id}/users\n${canonicalJson(memberBody)}`;
  const created = await ok(201, call('POST', `/api/v1/orgs/${org.id}/users`, idempotent));
  firstBody = created.body;
  const replay = async () => {
    const res = await call('POST', `/api/v1/orgs/${org.id}/users`, idempotent);
    replays.push({ status: res.status, replayed: res.headers.get('idempotent-replayed'), body: res.body });
  };
  await replay();
  await ok(
    201,
    call('POST', `/api/v1/orgs/${org.id}/users`, {
      token: admin,
      body: { ...SECOND, roles: ['admin'] },
      headers: { 'idempotency-key': 'at-rest-second' },
    }),
  );

  // Logins (one wrong), a refresh, an introspection, a client credential and its grant.
  await ok(400, login(MEMBER.email, WRONG_PASSWORD));
  const member = (await ok(200, login(MEMBER.email, MEMBER.password))).body;
  const rotated = (
    await ok(
      200,
      call('POST', '/api/v1/auth/tokens', {
        form: { grant_type: 'refresh_token', refresh_token: member.refresh_token },
      }),
    )
  ).body;
  await ok(
    200,
    call('POST', '/api/v1/auth/tokens/introspect', { token: admin, form: { token: rotated.refresh_token } }),
  );
  await ok(200, login(SECOND.email, SECOND.password));
  const client = (
    await ok(
      201,
      call('POST', '/api/v1/oauth2/client-credentials', {
        token: admin,
        body: { name: 'rest worker', orgId: org.id, scopes: ['orgs:read'] },
        headers: { 'idempotency-key': 'at-rest-client' },
      }),
    )
  ).body;
  secrets.clientSecrets.push(client.clientSecret);
  await ok(
    200,
    call('POST', '/api/v1/auth/tokens', {
      form: { grant_type: 'client_credentials', client_id: client.clientId, client_secret: client.clientSecret },
    }),
  );
  readFiles();

  // A clean stop writes a snapshot; the next start restores it, renames the member and replays again.
  await stop();
  await start();
  const again = (await ok(200, login(ADMIN_EMAIL, ADMIN_PASSWORD))).body.access_token as string;
  idempotent.token = again;
  await replay();
  await ok(
    200,
    call('PATCH', `/api/v1/orgs/${org.id}/users/${(firstBody as { userId: string }).userId}`, {
      token: again,
      body: { name: RENAMED },
    }),
  );
  await ok(200, login(MEMBER.email, MEMBER.password));
  readFiles();
  await stop();
  await start();
  await replay();
  await stop();
});
afterAll(() => running?.close());

/** The forms a value could be found in: in clear, and as a plain SHA-256. */
function forms(value: string): Array<{ form: string; bytes: Buffer }> {
  const digest = createHash('sha256').update(value, 'utf8').digest();
  return [
    { form: 'utf-8', bytes: Buffer.from(value, 'utf8') },
    { form: 'utf-16le', bytes: Buffer.from(value, 'utf16le') },
    { form: 'sha-256 hex', bytes: Buffer.from(digest.toString('hex')) },
    { form: 'sha-256 base64', bytes: Buffer.from(digest.toString('base64')) },
    { form: 'sha-256 base64url', bytes: Buffer.from(digest.toString('base64url')) },
  ];
}

describe('data at rest', () => {
  it('drove the whole session, replaying exactly the first response every time', () => {
    expect(secrets.refreshTokens.length).toBeGreaterThanOrEqual(5);
    expect(replays).toHaveLength(3);
    for (const r of replays) expect(r).toEqual({ status: 201, replayed: 'true', body: firstBody });
    expect(firstBody).toMatchObject({ email: MEMBER.email, name: MEMBER.name });
    const names = new Set(files.map((f) => f.name));
    for (const expected of [
      'events.sqlite',
      'events.sqlite-wal',
      'vault.sqlite',
      'tokens.sqlite',
      'command-model.snapshot',
    ])
      expect(names).toContain(expected);
  });

  it('keeps no password, secret, token, email or name in any file but the read models, in clear or as a plain SHA-256', () => {
    const needles: Record<string, string[]> = {
      password: [ADMIN_PASSWORD, MEMBER.password, SECOND.password, WRONG_PASSWORD],
      'client secret': secrets.clientSecrets,
      'refresh token': secrets.refreshTokens,
      email: [ADMIN_EMAIL, MEMBER.email, MEMBER.email.toLowerCase(), SECOND.email],
      name: [ADMIN_NAME, MEMBER.name, SECOND.name, RENAMED],
      'request with a password': [memberRequestText],
    };
    const found: string[] = [];
    for (const [kind, values] of Object.entries(needles))
      for (const value of values)
        for (const { form, bytes } of forms(value))
          for (const file of files)
            if (file.bytes.includes(bytes)) found.push(`${kind} ${value.slice(0, 16)}… as ${form} in ${file.name}`);
    expect([...new Set(found)]).toEqual([]);
  });
});

describe('an idempotent replay after the erasure of the user it showed', () => {
  it('answers 404, showing nothing of them: the sealed first response is gone with their key, the membership with the erasure', async () => {
    const app = await startTestApp();
    try {
      const org = await createOrg(app, 'Erasure Corp');
      const headers = { 'idempotency-key': 'erased-member' };
      const body = { email: 'Tamsin.Frostwick@at-rest.test', name: 'Tamsin Frostwick', roles: ['member'] };
      const first = await app.call('POST', `/api/v1/orgs/${org.id}/users`, { body, headers });
      expect(first.status).toBe(201);
      // Its ETag digests the body's bytes: kept in clear, it would confirm a guess of the email and name.
      const digest = first.headers.get('etag')!.replace(/^"\d+-|"$/g, '');
      const holdingDigest = () =>
        readdirSync(app.dataDir)
          .filter((name) => statSync(join(app.dataDir, name)).isFile())
          .filter((name) => readFileSync(join(app.dataDir, name)).includes(digest));
      expect(holdingDigest()).toEqual([]);
      // Erasure (contract section 6): every membership ends, then UserErased, then the data key is destroyed.
      expect((await app.call('DELETE', `/api/v1/users/${first.body.userId}`)).status).toBe(204);
      const vault = new Database(join(app.dataDir, 'vault.sqlite'), { readonly: true });
      try {
        const keys = vault.prepare('SELECT COUNT(*) AS n FROM data_keys WHERE subject_id = ?').get(first.body.userId);
        expect(keys).toEqual({ n: 0 });
      } finally {
        vault.close();
      }
      await app.rebuildReadModels();
      const replay = await app.call('POST', `/api/v1/orgs/${org.id}/users`, { body, headers });
      expect(replay.status).toBe(404);
      expect(replay.text).not.toContain('Tamsin');
      expect(replay.text.toLowerCase()).not.toContain('frostwick');
    } finally {
      await app.close();
    }
  });
});
