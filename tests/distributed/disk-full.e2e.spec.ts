import { Client } from 'pg';
import { type DistributedStack } from '../../apps/standalone/src/test-support/distributed-stack';
import {
  ADMIN_EMAIL,
  ADMIN_PASSWORD,
  createOrg,
  type TestApp,
  startStackTestApp,
} from '../../apps/standalone/src/test-support/test-app';

/**
 * A full disk, distributed profile (the embedded twin is apps/standalone/src/disk-full.e2e.spec.ts). PostgreSQL
 * answers every write with SQLSTATE 53100 (disk_full) while reads still work. A statement trigger on the
 * stack's own tables raises exactly that error from inside PostgreSQL (no disk is filled: that would hit every
 * other test on the server); dropping it is the operator freeing space.
 */
let stack: DistributedStack;
let app: TestApp;
let pg: Client;

beforeAll(async () => {
  ({ app, stack } = await startStackTestApp('arbor-pg-full-'));
  pg = new Client({ connectionString: stack.env.DATABASE_URL });
  await pg.connect();
  await pg.query(`CREATE FUNCTION "${stack.env.IAM_PG_SCHEMA}".disk_full() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN RAISE EXCEPTION 'could not extend file: No space left on device' USING ERRCODE = '53100'; END $$`);
});
afterAll(async () => {
  await pg?.end();
  await app?.close();
  await stack?.close();
});

/** Makes every write to `tables` fail as a full disk does, until `free` is called. */
async function fill(tables: string[]): Promise<() => Promise<void>> {
  const s = `"${stack.env.IAM_PG_SCHEMA}"`;
  for (const table of tables)
    await pg.query(
      `CREATE TRIGGER disk_full BEFORE INSERT OR UPDATE OR DELETE ON ${s}.${table} FOR EACH STATEMENT EXECUTE FUNCTION ${s}.disk_full()`,
    );
  return async () => {
    for (const table of tables) await pg.query(`DROP TRIGGER disk_full ON ${s}.${table}`);
  };
}

const readiness = async (base: string) => {
  const res = await fetch(`${base}/readyz`);
  return { status: res.status, body: (await res.json()) as { checks?: Record<string, string> } };
};

describe('a full disk (distributed profile)', () => {
  it('a write answers 503 with Retry-After, the gateway and the command service say not ready, and both recover once space returns', async () => {
    const root = await createOrg(app, 'Disk full');
    const free = await fill(['events', 'idempotency']);
    try {
      const res = await app.call('POST', '/api/v1/orgs', { body: { name: 'Refused', parentId: root.id } });
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toMatch(/^\d+$/);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      expect(res.body.code).toBe('IAM_ERR_UNAVAILABLE');
      // Reads still work, yet readiness says what a load balancer needs: no writes here.
      expect((await app.call('GET', `/api/v1/orgs/${root.id}`)).status).toBe(200);
      const gateway = await readiness(stack.url);
      expect(gateway.status).toBe(503);
      expect(gateway.body.checks?.eventStore).toBe('failing (53100)');
      const commandService = await readiness(stack.env.COMMAND_SERVICE_URL);
      expect(commandService.status).toBe(503);
      expect(commandService.body.checks?.eventStore).toBe('failing (53100)');
    } finally {
      await free();
    }
    // Space is back: readiness recovers by itself, before any write is sent.
    expect((await readiness(stack.url)).status).toBe(200);
    expect((await readiness(stack.env.COMMAND_SERVICE_URL)).status).toBe(200);
    expect(
      (await app.call('POST', '/api/v1/orgs', { body: { name: 'After space returns', parentId: root.id } })).status,
    ).toBe(201);
  });

  it('the password grant, when the token store cannot take its refresh token, answers 503 temporarily_unavailable (RFC 6749)', async () => {
    const login = () =>
      app.call('POST', '/api/v1/auth/tokens', {
        token: null,
        body: { grant_type: 'password', username: ADMIN_EMAIL, password: ADMIN_PASSWORD },
      });
    const free = await fill(['refresh_tokens']);
    try {
      const res = await login();
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toMatch(/^\d+$/);
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      expect(res.body).toEqual({ error: 'temporarily_unavailable', error_description: expect.any(String) });
    } finally {
      await free();
    }
    expect((await login()).status).toBe(200);
  });
});
