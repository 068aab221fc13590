import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startDistributedStack, type DistributedStack } from '../../apps/standalone/src/test-support/distributed-stack';
import {
  ADMIN_EMAIL,
  ADMIN_PASSWORD,
  connectToStack,
  type TestApp,
} from '../../apps/standalone/src/test-support/test-app';

/**
 * `npx arbor reset-admin-password` with DATABASE_URL: it works on the distributed profile's store while the
 * deployment runs, and the admin then logs in through the gateway with the new password.
 */
const ROOT = resolve(__dirname, '../..');
let stack: DistributedStack;
let app: TestApp;

beforeAll(async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'arbor-reset-'));
  stack = await startDistributedStack({
    dataDir,
    adminEmail: ADMIN_EMAIL,
    adminPassword: ADMIN_PASSWORD,
    issuer: 'http://arbor.test',
  });
  app = await connectToStack(stack, dataDir);
});
afterAll(() => stack?.close());

function arbor(env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = spawn('npx', ['--offline', 'arbor', 'reset-admin-password'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? tmpdir(), ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.once('exit', (code) => done({ code, stdout, stderr }));
  });
}

const login = (password: string) =>
  app.call('POST', '/api/v1/auth/tokens', {
    token: null,
    body: { grant_type: 'password', username: ADMIN_EMAIL, password },
  });

it('resets the platform admin password on the PostgreSQL store of a running deployment', async () => {
  const before = app.adminToken;
  const reset = await arbor({ DATABASE_URL: stack.env.DATABASE_URL, IAM_PG_SCHEMA: stack.env.IAM_PG_SCHEMA });
  expect(reset.stderr).not.toMatch(/error/i);
  expect(reset.code).toBe(0);
  const password = /New password: (\S+) \(shown once\)/.exec(reset.stdout)?.[1];
  expect(password).toEqual(expect.any(String));

  expect((await login(ADMIN_PASSWORD)).status).toBe(400);
  const fresh = await login(password!);
  expect(fresh.status).toBe(200);
  // The projector polls the log: the admin's earlier session ends once it has projected the event.
  let status = 0;
  for (let i = 0; i < 100 && status !== 401; i++) {
    status = (await app.call('GET', '/api/v1/users/me', { token: before })).status;
    if (status !== 401) await new Promise((r) => setTimeout(r, 100));
  }
  expect(status).toBe(401);
  const events = await app.call('GET', '/api/v1/events?type=UserPasswordSet', { token: fresh.body.access_token });
  expect(events.body.items).toEqual([expect.objectContaining({ actor: { type: 'system', id: 'system' } })]);
});
