import { spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { jsonLogger } from '@arbor/application';
import { startStandalone, type RunningStandalone } from '../../standalone/src/start-standalone';
import { ADMIN_EMAIL, ADMIN_PASSWORD, startTestApp } from '../../standalone/src/test-support/test-app';
import { ARBOR_MAIN } from './run-arbor.test-support';

/**
 * `npx arbor reset-admin-password` on the embedded profile's data directory, end to end: the command is
 * spawned as an operator would run it in the checkout (the root package's `bin`, which builds first), then
 * the server is started on the same directory and the admin logs in over HTTP.
 */
const ROOT = resolve(__dirname, '../../..');

function arbor(
  args: string[],
  env: Record<string, string>,
  stdin?: string,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = spawn('npx', ['--offline', 'arbor', ...args], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? tmpdir(), ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.stdin.end(stdin ?? '');
    child.once('exit', (code) => done({ code, stdout, stderr }));
  });
}

const start = (dataDir: string): Promise<RunningStandalone> =>
  startStandalone(
    {
      port: 0,
      host: '127.0.0.1',
      dataDir,
      issuer: 'http://arbor.test',
      passwordCostLog2: 10,
      logLevel: 'silent',
      validateResponses: true,
    },
    jsonLogger({}, 'silent'),
  );

async function login(url: string, password: string): Promise<{ status: number; body: any }> {
  const res = await fetch(`${url}/api/v1/auth/tokens`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'password', username: ADMIN_EMAIL, password }).toString(),
  });
  return { status: res.status, body: await res.json() };
}

describe('arbor reset-admin-password (embedded profile)', () => {
  it('refuses while the server holds the data directory, then resets the password and ends every session of the admin', async () => {
    const first = await startTestApp();
    const dataDir = first.dataDir;
    const oldToken = first.adminToken;
    let refused;
    try {
      refused = await arbor(['reset-admin-password'], { IAM_DATA_DIR: dataDir });
    } finally {
      await first.close();
    }
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/stop the server/);
    expect(refused.stdout).toBe('');

    // A generated password that cannot be shown (standard output on a full disk) is not set.
    const full = openSync('/dev/full', 'w');
    try {
      const child = spawn(process.execPath, [ARBOR_MAIN, 'reset-admin-password'], {
        env: { PATH: process.env.PATH ?? '', IAM_DATA_DIR: dataDir },
        stdio: ['ignore', full, 'pipe'],
      });
      let stderr = '';
      child.stderr!.on('data', (d) => (stderr += d));
      const code = await new Promise((r) => child.once('exit', r));
      expect([code, stderr]).toEqual([1, expect.stringMatching(/cannot write the output/i)]);
    } finally {
      closeSync(full);
    }

    const reset = await arbor(['reset-admin-password'], { IAM_DATA_DIR: dataDir });
    expect(reset.code).toBe(0);
    const password = /New password: (\S+) \(shown once\)/.exec(reset.stdout)?.[1];
    expect(password).toEqual(expect.any(String));

    const server = await start(dataDir);
    try {
      expect((await login(server.url, ADMIN_PASSWORD)).status).toBe(400);
      const fresh = await login(server.url, password!);
      expect(fresh.status).toBe(200);
      // The session from before the reset ended.
      expect(
        (await fetch(`${server.url}/api/v1/users/me`, { headers: { authorization: `Bearer ${oldToken}` } })).status,
      ).toBe(401);
      const events = await fetch(`${server.url}/api/v1/events?type=UserPasswordSet`, {
        headers: { authorization: `Bearer ${fresh.body.access_token}` },
      });
      const items = ((await events.json()) as any).items;
      expect(items).toHaveLength(1);
      const [event] = items;
      expect(event).toMatchObject({ actor: { type: 'system', id: 'system' }, data: { userId: expect.any(String) } });
      expect(JSON.stringify(event)).not.toContain(password);
    } finally {
      await server.close();
    }
  });

  it('takes the password from IAM_BOOTSTRAP_ADMIN_PASSWORD or standard input, and never prints it', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'arbor-cli-'));
    await (await startTestApp({ dataDir })).close();

    const fromEnv = await arbor(['reset-admin-password'], {
      IAM_DATA_DIR: dataDir,
      IAM_BOOTSTRAP_ADMIN_PASSWORD: 'chosen through the env',
    });
    expect(fromEnv.code).toBe(0);
    expect(fromEnv.stdout).not.toContain('chosen through the env');
    let server = await start(dataDir);
    try {
      expect((await login(server.url, 'chosen through the env')).status).toBe(200);
    } finally {
      await server.close();
    }

    const fromStdin = await arbor(
      ['reset-admin-password', '--password-stdin'],
      { IAM_DATA_DIR: dataDir },
      'typed on standard input\n',
    );
    expect(fromStdin.code).toBe(0);
    expect(fromStdin.stdout).not.toContain('typed on standard input');
    server = await start(dataDir);
    try {
      expect((await login(server.url, 'typed on standard input')).status).toBe(200);
      expect((await login(server.url, 'chosen through the env')).status).toBe(400);
    } finally {
      await server.close();
    }

    const twice = await arbor(
      ['reset-admin-password', '--password-stdin', '--password-stdin'],
      { IAM_DATA_DIR: dataDir },
      'typed on standard input again\n',
    );
    expect([twice.code, twice.stderr]).toEqual([1, expect.stringContaining('--password-stdin may be given once')]);
    const weak = await arbor(['reset-admin-password', '--password-stdin'], { IAM_DATA_DIR: dataDir }, 'short\n');
    expect(weak.code).toBe(1);
    const nowhere = await arbor(['reset-admin-password'], { IAM_DATA_DIR: join(dataDir, 'missing') });
    expect(nowhere.code).toBe(1);
    expect(nowhere.stderr).toMatch(/No Arbor data/);
  });
});
