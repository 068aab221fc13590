import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as oauth from 'oauth4webapi';

/**
 * The README's first hour, run as a newcomer would (issue 11 item 19): the server block (`npm start`, which
 * builds first) in one shell, the client block in another, exactly as written except for the port (8080 may
 * be taken on a shared machine). The blocks are the fenced `sh` blocks after `<!-- readme-walk: server -->`
 * and `<!-- readme-walk: client -->`.
 */
const ROOT = resolve(__dirname, '../..');
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');

/** The shell block the README marks with `<!-- readme-walk: <name> -->`. */
function walkBlock(name: string): string {
  const match = new RegExp(`<!-- readme-walk: ${name} -->\\n\`\`\`sh\\n([\\s\\S]*?)\\n\`\`\`\\n`).exec(README);
  if (!match) throw new Error(`README.md has no "<!-- readme-walk: ${name} -->" shell block`);
  return match[1];
}

function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer().once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolvePort(port));
    });
  });
}

/** This process's environment without Arbor's variables, so that only the README's own apply. */
function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !name.startsWith('IAM_') && name !== 'PORT'),
  );
  return { ...env, ...extra };
}

let server: ChildProcess | undefined;
let serverOut = '';
let port = 0;
let dataDir = '';
let listening: Record<string, unknown> = {};

beforeAll(async () => {
  port = await freePort();
  dataDir = mkdtempSync(join(tmpdir(), 'arbor-readme-'));
  // Its own process group, so that stopping it stops npm and the node process npm started.
  server = spawn('bash', ['--norc', '-euo', 'pipefail', '-c', walkBlock('server')], {
    cwd: ROOT,
    env: cleanEnv({ PORT: String(port), IAM_DATA_DIR: dataDir }),
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let err = '';
  server.stderr!.on('data', (d) => (err += d));
  listening = await new Promise((resolveLine, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no "arbor listening" line; stdout: ${serverOut} stderr: ${err}`)),
      150_000,
    );
    server!.stdout!.on('data', (d) => {
      serverOut += d;
      const line = serverOut.split('\n').find((l) => l.includes('"message":"arbor listening"'));
      if (line) {
        clearTimeout(timer);
        resolveLine(JSON.parse(line));
      }
    });
    server!.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the server block exited with ${code}; stderr: ${err}`));
    });
  });
}, 180_000);

/** Whether any process of the group led by `pid` is still alive (signal 0 probes without signalling). */
function groupAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
}

afterAll(async () => {
  if (server?.pid) {
    // The group is bash, npm and the node server; bash can exit before the server has closed its SQLite files
    // (ENOTEMPTY in CI), so wait for every process of the group to be gone, not only the child we spawned.
    if (groupAlive(server.pid)) process.kill(-server.pid, 'SIGTERM');
    const deadline = Date.now() + 30_000;
    while (groupAlive(server.pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    if (groupAlive(server.pid)) process.kill(-server.pid, 'SIGKILL');
  }
  rmSync(dataDir, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
}, 60_000);

/** Runs shell blocks one after the other in one bash (-euo pipefail) on the test's port; they must succeed quietly. */
function runBlocks(...blocks: string[]): { stdout: string } {
  const script = blocks.join('\n').replaceAll('localhost:8080', `localhost:${port}`);
  // --norc: a bash whose stdin is a socket (Node's pipes are socketpairs) and whose SHLVL is below 2 reads the
  // system bashrc as for a remote shell (Debian), whose `$PS1` test fails under -u.
  const run = spawnSync('bash', ['--norc', '-euo', 'pipefail', '-c', script], {
    cwd: ROOT,
    env: cleanEnv({}),
    encoding: 'utf8',
    timeout: 60_000,
  });
  expect(run.stderr).toBe('');
  expect(run.status).toBe(0);
  return { stdout: run.stdout };
}

describe("the README's first hour", () => {
  it('logs in with the documented password, keeps the token in TOKEN, and builds a tree with it', async () => {
    const client = walkBlock('client');
    expect(client).toMatch(/^TOKEN=\$\(/m); // the token is set before the commands that use it
    const run = runBlocks(client, `printf '\\nTOKEN=%s\\nACME=%s\\n' "$TOKEN" "$ACME"`);
    const token = /^TOKEN=(.*)$/m.exec(run.stdout)![1];
    const acme = /^ACME=(.*)$/m.exec(run.stdout)![1];
    expect(token.split('.')).toHaveLength(3);
    expect(run.stdout).toContain(`"issuer":"http://localhost:${port}"`);

    const children = await fetch(`http://127.0.0.1:${port}/api/v1/orgs/${acme}/children?depth=all`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(children.status).toBe(200);
    const body = (await children.json()) as { items: Array<{ name: string; parentId: string }> };
    expect(body.items.map((org) => [org.name, org.parentId])).toEqual([['Sales', acme]]);
  });

  it("runs the AuthZEN worked example after it, in the same shell, and gets the README's answer", () => {
    // The client block again (roots may share a name), then the example, which uses its TOKEN and ACME.
    const run = runBlocks(walkBlock('client'), walkBlock('authzen'));
    const answer = JSON.parse(run.stdout.trim().split('\n').at(-1)!);
    expect(answer).toMatchObject({
      decision: true,
      context: {
        explanation: {
          grants: [{ kind: 'membership', role: 'admin', inherited: true, event: { type: 'UserAddedToOrg' } }],
        },
      },
    });
  });

  it('runs the custom-roles example after those, in the same shell, and gets its decision', () => {
    // Ann was created by the test before: her email would now name an existing account (409).
    const blocks = [walkBlock('client'), walkBlock('authzen'), walkBlock('custom-roles')];
    const run = runBlocks(...blocks.map((block) => block.replaceAll('@acme.test', '@acme-roles.test')));
    const answer = JSON.parse(run.stdout.trim().split('\n').at(-1)!);
    expect(answer).toMatchObject({ decision: true, context: { position: expect.any(Number) } });
  });

  it('names the issuer and the discovery URL in the start-up line', () => {
    expect(listening).toMatchObject({
      issuer: `http://localhost:${port}`,
      discovery: `http://localhost:${port}/.well-known/oauth-authorization-server`,
    });
  });

  it('is right that discovery works at the issuer URL and fails through 127.0.0.1 (README: the issuer is the URL clients must use)', async () => {
    // RFC 8414 discovery (not OpenID Connect's), over plain HTTP as the README's server serves it.
    const http = { [oauth.allowInsecureRequests]: true, algorithm: 'oauth2' } as const;
    const atIssuer = new URL(`http://localhost:${port}`);
    const metadata = await oauth.processDiscoveryResponse(atIssuer, await oauth.discoveryRequest(atIssuer, http));
    expect(metadata.issuer).toBe(atIssuer.origin);
    const byAddress = new URL(`http://127.0.0.1:${port}`);
    await expect(
      oauth.processDiscoveryResponse(byAddress, await oauth.discoveryRequest(byAddress, http)),
    ).rejects.toThrow(/issuer/);
  });
});
