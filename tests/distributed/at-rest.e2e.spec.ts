import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { type DistributedStack } from '../../apps/standalone/src/test-support/distributed-stack';
import { createOrg, type TestApp, startStackTestApp } from '../../apps/standalone/src/test-support/test-app';

/**
 * The distributed profile keeps idempotency records and refresh tokens in PostgreSQL, and the command
 * service its snapshot in its own IAM_DATA_DIR: the same keyed hashes and sealing as the embedded profile
 * (the code path is shared), checked here where they are stored.
 */
const MEMBER = {
  email: 'Wendeline.Osgood@pg-at-rest.test',
  name: 'Wendeline Osgood',
  password: 'gravel orchid 4471 lantern',
};

let stack: DistributedStack;
let app: TestApp;
let dataDir: string;
let requestText = '';
const refreshTokens: string[] = [];
let rows: { idempotency: Array<{ request_hash: string; response: string }>; tokens: string[] };

beforeAll(async () => {
  ({ app, stack, dataDir } = await startStackTestApp('arbor-pg-at-rest-'));
  const org = await createOrg(app, 'Pg Rest');
  const body = { email: MEMBER.email, name: MEMBER.name, password: MEMBER.password, roles: ['member'] };
  requestText = `POST /api/v1/orgs/${org.id}/users\n{"email":${JSON.stringify(MEMBER.email)},"name":${JSON.stringify(MEMBER.name)},"password":${JSON.stringify(MEMBER.password)},"roles":["member"]}`;
  const headers = { 'idempotency-key': 'pg-at-rest-member' };
  const first = await app.call('POST', `/api/v1/orgs/${org.id}/users`, { body, headers });
  expect(first.status).toBe(201);
  const replay = await app.call('POST', `/api/v1/orgs/${org.id}/users`, { body, headers });
  expect([replay.status, replay.headers.get('idempotent-replayed'), replay.body]).toEqual([201, 'true', first.body]);
  const login = await app.call('POST', '/api/v1/auth/tokens', {
    token: null,
    body: { grant_type: 'password', username: MEMBER.email, password: MEMBER.password },
  });
  const rotated = await app.call('POST', '/api/v1/auth/tokens', {
    token: null,
    body: { grant_type: 'refresh_token', refresh_token: login.body.refresh_token },
  });
  expect(rotated.status).toBe(200);
  refreshTokens.push(login.body.refresh_token, rotated.body.refresh_token);

  const pg = new Client({ connectionString: stack.env.DATABASE_URL });
  await pg.connect();
  try {
    const schema = stack.env.IAM_PG_SCHEMA;
    const idempotency = await pg.query(`SELECT request_hash, response::text AS response FROM "${schema}".idempotency`);
    const tokens = await pg.query(`SELECT token_hash FROM "${schema}".refresh_tokens`);
    rows = { idempotency: idempotency.rows, tokens: tokens.rows.map((r) => r.token_hash as string) };
  } finally {
    await pg.end();
  }
  // A clean stop: the command service writes its snapshot into its data directory.
  await app.close();
});
afterAll(() => stack?.close());

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('base64url');

describe('distributed profile at rest', () => {
  it('keeps idempotency request hashes keyed and personal response bodies sealed in PostgreSQL', () => {
    // The member's creation: its response body is sealed (under the member's own key).
    expect(rows.idempotency.filter((r) => r.response.includes('"sealedBody"'))).toHaveLength(1);
    for (const row of rows.idempotency) {
      expect(row.request_hash).toMatch(/^k1\./);
      expect(row.request_hash).not.toBe(sha256(requestText));
      for (const clear of [MEMBER.email, MEMBER.name, MEMBER.password]) expect(row.response).not.toContain(clear);
    }
  });

  it('keeps refresh tokens only as keyed hashes in PostgreSQL', () => {
    expect(rows.tokens.length).toBeGreaterThanOrEqual(3);
    for (const token of refreshTokens) {
      expect(rows.tokens).not.toContain(sha256(token));
      expect(rows.tokens.some((h) => h.includes(token))).toBe(false);
    }
  });

  it("keeps the command service's data directory owner-only and free of personal data", () => {
    const names = readdirSync(dataDir);
    expect(names).toContain('command-model.snapshot');
    expect(statSync(dataDir).mode & 0o777).toBe(0o700);
    for (const name of names) {
      const stat = statSync(join(dataDir, name));
      expect([name, stat.mode & 0o777]).toEqual([name, stat.isDirectory() ? 0o700 : 0o600]);
      if (stat.isFile())
        for (const clear of [MEMBER.email, MEMBER.name, MEMBER.password])
          expect(readFileSync(join(dataDir, name)).includes(clear)).toBe(false);
    }
  });
});
