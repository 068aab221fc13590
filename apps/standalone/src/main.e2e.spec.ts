import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '../../..');
const MAIN = join(ROOT, 'apps/standalone/dist/main.js');

interface Started {
  child: ChildProcess;
  port: number;
  stdout: () => string;
}

/** Runs the built app as `npm start` does, and waits for its "listening" log line. */
function startProcess(env: Record<string, string>): Promise<Started> {
  const child = spawn(process.execPath, [MAIN], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`no listening line; stdout: ${out} stderr: ${err}`));
    }, 20_000);
    child.stdout!.on('data', (d) => {
      out += d;
      // One JSON object per line; the listening line names the port (field order is the logger's business).
      const line = out.split('\n').find((l) => l.includes('"message":"arbor listening"'));
      if (line) {
        clearTimeout(timer);
        resolvePromise({ child, port: Number(JSON.parse(line).port), stdout: () => out });
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${code}; stderr: ${err}`));
    });
  });
}

function stop(started: Started): Promise<number | null> {
  return new Promise((resolvePromise) => {
    started.child.once('exit', (code) => resolvePromise(code));
    started.child.kill('SIGTERM');
  });
}

async function login(port: number, username: string, password: string): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${port}/api/v1/auth/tokens`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'password', username, password }).toString(),
  });
  return res.status;
}

beforeAll(() => {
  // `npm test` builds first; this keeps `npx jest` on its own working too (tsc -b is incremental).
  execFileSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-b', 'tsconfig.build.json'], {
    cwd: ROOT,
  });
}, 120_000);

describe('the standalone process', () => {
  it('prints a generated admin password once, keeps it across restarts, and stops cleanly on SIGTERM', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'arbor-main-'));
    const first = await startProcess({ PORT: '0', IAM_DATA_DIR: dataDir });
    const match = /Platform admin created: admin@localhost \/ password: (\S+)/.exec(first.stdout());
    expect(match).not.toBeNull();
    const password = match![1];
    expect(await login(first.port, 'admin@localhost', password)).toBe(200);
    expect((await fetch(`http://127.0.0.1:${first.port}/readyz`)).status).toBe(200);
    // `npm start` collects start-up's garbage before it serves (collectStartupGarbage), and says how long it took.
    const listening = JSON.parse(
      first
        .stdout()
        .split('\n')
        .find((l) => l.includes('"arbor listening"'))!,
    );
    expect(listening.startupGcMs).toEqual(expect.any(Number));
    expect(await stop(first)).toBe(0);
    // The close ran to its end: every SQLite file was closed, the last connection of each removing its WAL (a
    // process that ends with its files open leaves them; the WAL checkpointer's thread once let it end so).
    expect(readdirSync(dataDir).filter((f) => f.endsWith('-wal'))).toEqual([]);

    const second = await startProcess({
      PORT: '0',
      IAM_DATA_DIR: dataDir,
      IAM_BOOTSTRAP_ADMIN_PASSWORD: 'a different password',
    });
    expect(second.stdout()).not.toContain('Platform admin created');
    expect(await login(second.port, 'admin@localhost', password)).toBe(200);
    expect(await login(second.port, 'admin@localhost', 'a different password')).toBe(400);
    expect(await stop(second)).toBe(0);
  }, 60_000);

  it('under `npm start`, stops cleanly when a supervisor sends SIGTERM to npm (the server gets the signal)', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'arbor-npm-start-'));
    // Its own process group, so that whatever outlives npm is found and ended below even if the test fails.
    const npm = spawn('npm', ['start'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', PORT: '0', IAM_DATA_DIR: dataDir },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let out = '';
    npm.stdout!.on('data', (d) => (out += d));
    try {
      const port = await new Promise<number>((resolvePromise, reject) => {
        const timer = setTimeout(() => reject(new Error(`no listening line: ${out}`)), 60_000);
        npm.stdout!.on('data', () => {
          const line = out.split('\n').find((l) => l.includes('"message":"arbor listening"'));
          if (line) {
            clearTimeout(timer);
            resolvePromise(Number(JSON.parse(line).port));
          }
        });
      });
      expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
      const npmExited = new Promise((r) => npm.once('exit', r));
      npm.kill('SIGTERM');
      await npmExited;
      // The server itself stops (its graceful close), not only npm: the port stops answering.
      const deadline = Date.now() + 15_000;
      let serving = true;
      while (serving && Date.now() < deadline) {
        serving = await fetch(`http://127.0.0.1:${port}/healthz`).then(
          () => true,
          () => false,
        );
        if (serving) await new Promise((r) => setTimeout(r, 100));
      }
      expect(serving).toBe(false);
      expect(out).toContain('"message":"shutting down"');
    } finally {
      try {
        process.kill(-npm.pid!, 'SIGKILL');
      } catch {
        // The group is gone: nothing outlived npm.
      }
    }
  }, 90_000);

  it('binds its port before it creates the admin: on EADDRINUSE nothing is printed and the next start prints the password', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'arbor-main-'));
    const taken: Server = createServer();
    await new Promise<void>((done) => taken.listen(0, '127.0.0.1', done));
    const port = (taken.address() as { port: number }).port;
    try {
      const child = spawn(process.execPath, [MAIN], {
        cwd: ROOT,
        env: { PATH: process.env.PATH ?? '', PORT: String(port), HOST: '127.0.0.1', IAM_DATA_DIR: dataDir },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      let err = '';
      child.stdout!.on('data', (d) => (out += d));
      child.stderr!.on('data', (d) => (err += d));
      const code = await new Promise<number | null>((done) => child.once('exit', done));
      expect(code).toBe(1);
      expect(err).toContain('EADDRINUSE');
      // What to do about it, too.
      expect(err).toContain(`another process listens on port ${port}; stop it, or choose a free port (PORT`);
      expect(out).not.toContain('Platform admin created');
    } finally {
      taken.close();
    }
    const next = await startProcess({ PORT: '0', IAM_DATA_DIR: dataDir });
    try {
      const match = /Platform admin created: admin@localhost \/ password: (\S+)/.exec(next.stdout());
      expect(match).not.toBeNull();
      expect(await login(next.port, 'admin@localhost', match![1])).toBe(200);
    } finally {
      await stop(next);
    }
  }, 60_000);

  it('takes the bootstrap admin and issuer from the environment', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'arbor-main-'));
    const started = await startProcess({
      PORT: '0',
      IAM_DATA_DIR: dataDir,
      IAM_ISSUER: 'https://iam.example.test',
      IAM_BOOTSTRAP_ADMIN_EMAIL: 'root@example.test',
      IAM_BOOTSTRAP_ADMIN_PASSWORD: 'chosen password 123',
    });
    try {
      expect(started.stdout()).not.toContain('chosen password 123');
      expect(await login(started.port, 'root@example.test', 'chosen password 123')).toBe(200);
      const metadata = (await (
        await fetch(`http://127.0.0.1:${started.port}/.well-known/oauth-authorization-server`)
      ).json()) as { issuer: string };
      expect(metadata.issuer).toBe('https://iam.example.test');
    } finally {
      await stop(started);
    }
  }, 60_000);

  it('serves the API reference page with its assets from node_modules (no CDN), and the OpenAPI document, without a token', async () => {
    const started = await startProcess({
      PORT: '0',
      IAM_DATA_DIR: mkdtempSync(join(tmpdir(), 'arbor-main-')),
      IAM_BOOTSTRAP_ADMIN_PASSWORD: 'chosen password 123',
    });
    const base = `http://127.0.0.1:${started.port}`;
    try {
      const page = await fetch(`${base}/api/v1/docs`);
      expect(page.status).toBe(200);
      expect(page.headers.get('content-type')).toMatch(/^text\/html/);
      const html = await page.text();
      const assets = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]);
      expect(assets.length).toBeGreaterThanOrEqual(3);
      for (const asset of assets) {
        expect(asset).toMatch(/^\/api\/v1\/docs\//); // same origin: nothing from a CDN
        const res = await fetch(base + asset);
        expect(res.status).toBe(200);
        expect(res.headers.get('content-type')).toMatch(asset.endsWith('.css') ? /^text\/css/ : /^text\/javascript/);
        if (asset.endsWith('initializer.js')) expect(await res.text()).toContain("url: '/api/v1/openapi.json'");
        else expect((await res.arrayBuffer()).byteLength).toBeGreaterThan(10_000);
      }
      const doc = await fetch(`${base}/api/v1/openapi.json`);
      expect(doc.status).toBe(200);
      expect(((await doc.json()) as { openapi: string }).openapi).toBe('3.1.0');
    } finally {
      await stop(started);
    }
  }, 60_000);

  it('refuses to start with an IAM_CORS_ORIGINS entry that is not an origin', async () => {
    await expect(
      startProcess({
        PORT: '0',
        IAM_DATA_DIR: mkdtempSync(join(tmpdir(), 'arbor-main-')),
        IAM_CORS_ORIGINS: 'https://app.example.test/path',
      }),
    ).rejects.toThrow(/IAM_CORS_ORIGINS/);
  });

  it('refuses to start on bad values, naming every bad variable (the configuration module every app shares)', async () => {
    const failed = startProcess({
      PORT: '0',
      IAM_DATA_DIR: mkdtempSync(join(tmpdir(), 'arbor-main-')),
      HOST: 'not a host',
      IAM_ISSUER: 'iam.example.test',
    });
    await expect(failed).rejects.toThrow(
      /exited with 1; stderr: arbor failed to start: (?=[^]*HOST must be an IP address or a host name, not "not a host")(?=[^]*IAM_ISSUER must be an http\(s\) URL)/,
    );
  });
});
