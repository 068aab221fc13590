import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ADMIN_EMAIL, ADMIN_PASSWORD, startTestApp } from './test-support/test-app';
import { childPids, eventually, freshCall, isAlive } from './test-support/fresh-connection';

/**
 * The built standalone process (`npm start`) with IAM_WORKERS: its HTTP workers never outlive their writer, a
 * restart after the writer's death keeps every acknowledged write, and IAM_WORKERS=1 forks nothing.
 */

const ROOT = resolve(__dirname, '../../..');
const MAIN = join(ROOT, 'apps/standalone/dist/main.js');

jest.setTimeout(120_000);

beforeAll(() => {
  // Workers run the built worker-main.js: build as main.e2e.spec.ts does (incremental).
  execFileSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-b', 'tsconfig.build.json'], {
    cwd: ROOT,
  });
}, 120_000);

/** Starts dist/main.js over `dataDir` and resolves with its port once it logs "arbor listening". */
function startProcess(
  dataDir: string,
  workers: number,
  extraEnv: Record<string, string> = {},
): Promise<{ child: ChildProcess; url: string; output: () => string }> {
  const child = spawn(process.execPath, [MAIN], {
    cwd: ROOT,
    env: {
      ...extraEnv,
      PATH: process.env.PATH ?? '',
      PORT: '0',
      HOST: '127.0.0.1',
      IAM_DATA_DIR: dataDir,
      IAM_ISSUER: 'http://arbor.test',
      IAM_BOOTSTRAP_ADMIN_EMAIL: ADMIN_EMAIL,
      IAM_BOOTSTRAP_ADMIN_PASSWORD: ADMIN_PASSWORD,
      IAM_WORKERS: String(workers),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  return new Promise((done, fail) => {
    child.stdout!.on('data', (d) => {
      out += d;
      const line = out.split('\n').find((l) => l.includes('"message":"arbor listening"'));
      if (line) done({ child, url: `http://127.0.0.1:${Number(JSON.parse(line).port)}`, output: () => out + err });
    });
    child.once('exit', (code) => fail(new Error(`exited with ${code}; stdout: ${out} stderr: ${err}`)));
  });
}

async function adminToken(url: string): Promise<string> {
  const res = await freshCall(url, 'POST', '/api/v1/auth/tokens', {
    form: { grant_type: 'password', username: ADMIN_EMAIL, password: ADMIN_PASSWORD },
  });
  if (res.status !== 200) throw new Error(`login failed: ${JSON.stringify(res)}`);
  return res.body.access_token;
}

describe('the standalone process with IAM_WORKERS', () => {
  it('IAM_WORKERS=2: the workers exit when the writer is SIGKILLed; a restart has every acknowledged write', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'arbor-workers-'));
    const { child, url, output } = await startProcess(dataDir, 2);
    const first = childPids(child.pid!);
    expect(first).toHaveLength(2);
    // A worker that dies is replaced, and the log says when the port is served again (not only that one died).
    process.kill(first[0], 'SIGKILL');
    await eventually(
      () =>
        output()
          .split('\n')
          .some((l) => l.includes('"message":"HTTP worker listening"') && l.includes('"replacement":true')),
      'the replacement logs that it listens',
    );
    expect(output()).toContain('"message":"worker exited; starting another"');
    const workers = childPids(child.pid!);
    expect(workers).toHaveLength(2);
    expect(workers).not.toContain(first[0]);
    // The writer's environment held the bootstrap password; the workers' does not (their configuration comes by IPC).
    for (const pid of workers) {
      const environ = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
      expect(environ).toContain('IAM_BOOTSTRAP_ADMIN_PASSWORD=');
      expect(environ.join('\n')).not.toContain(ADMIN_PASSWORD);
    }
    const token = await adminToken(url);
    const acknowledged: string[] = [];
    for (let i = 0; i < 10; i++) {
      const res = await freshCall(url, 'POST', '/api/v1/orgs', { token, body: { name: `kept ${i}`, parentId: null } });
      if (res.status !== 201) throw new Error(`write ${i} failed: ${JSON.stringify(res)}`);
      acknowledged.push(res.body.id);
    }
    child.kill('SIGKILL');
    // Their IPC channel closes with the writer, however it dies: they must not stay up serving stale reads.
    await eventually(() => workers.every((pid) => !isAlive(pid)), 'the workers exit after their writer');

    const again = await startTestApp({ dataDir, workers: 2 });
    try {
      for (const id of acknowledged) expect((await again.call('GET', `/api/v1/orgs/${id}`)).status).toBe(200);
    } finally {
      await again.close();
    }
  });

  it('IAM_WORKERS=1: one process serves everything, no worker is forked', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'arbor-workers-'));
    const { child, url } = await startProcess(dataDir, 1);
    try {
      const token = await adminToken(url);
      const res = await freshCall(url, 'POST', '/api/v1/orgs', { token, body: { name: 'alone', parentId: null } });
      expect(res.status).toBe(201);
      expect(childPids(child.pid!)).toEqual([]);
    } finally {
      const exited = new Promise((done) => child.once('exit', done));
      child.kill('SIGTERM');
      await exited;
    }
  });

  it('IAM_WORKERS=2: workers that keep dying at start make the writer stop and exit 1, not loop for ever', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'arbor-workers-'));
    // Loaded by every process (NODE_OPTIONS): a worker started once the marker exists dies at once, as one would on
    // a bad build or a full disk; the writer and the first workers start normally.
    const marker = join(dataDir, 'workers-die');
    const preload = join(dataDir, 'die-if-marked.cjs');
    writeFileSync(
      preload,
      `if ((process.argv[1] || '').endsWith('worker-main.js') && require('fs').existsSync(${JSON.stringify(marker)})) process.exit(7);\n`,
    );
    const { child, output } = await startProcess(dataDir, 2, { NODE_OPTIONS: `--require ${preload}` });
    // 'close', not 'exit': the output is complete then.
    const exited = new Promise<number | null>((done) => child.once('close', (code) => done(code)));
    const workers = childPids(child.pid!);
    expect(workers).toHaveLength(2);
    writeFileSync(marker, '');
    for (const pid of workers) process.kill(pid, 'SIGKILL');
    expect(await exited).toBe(1);
    expect(output()).toContain('HTTP workers keep dying: not starting more');
    for (const pid of workers) expect(isAlive(pid)).toBe(false);
  });
});
