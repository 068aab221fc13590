// What one organization creation costs the embedded server, counted rather than timed (the VM's speed moves by a
// third within an hour; counts do not): server CPU per creation split into the event loop and the other threads
// (/proc/<pid>/task/*/stat), write() calls and bytes per creation (/proc/<pid>/io).
//
//   node bench/write-cost.mjs [--root DIR] [--count N] [--connections N] [--label L]
//
// --root: the checkout whose built server runs (default: this one; `npm run build` first), so two commits can be
// compared from one script (a worktree of the other). A fresh data dir under the OS temp dir with a bootstrap admin;
// a 121-organization tree (depth 4, three children each), 3,000 creations to warm up, then --count (default 20,000)
// creations spread over the 81 deepest organizations at --connections (default 50), measured. One JSON line out.
import { spawn } from 'node:child_process';
import { createWriteStream, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';

const { values: opts } = parseArgs({
  options: {
    root: { type: 'string', default: resolve(import.meta.dirname, '..') },
    count: { type: 'string', default: '20000' },
    connections: { type: 'string', default: '50' },
    label: { type: 'string', default: '' },
  },
});
const count = Number(opts.count);
const dir = mkdtempSync(join(tmpdir(), 'arbor-write-cost-'));
const port = 40000 + Math.floor(Math.random() * 10000);
const password = 'Write-cost-admin-pw-1234';
// For profiling: BENCH_NODE_ARGS='--cpu-prof --cpu-prof-dir=/tmp/prof' (as bench/run.mjs).
const nodeArgs = process.env.BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
const server = [...nodeArgs, join(opts.root, 'apps/standalone/dist/main.js')];
const child = spawn(process.execPath, server, {
  cwd: opts.root,
  env: {
    ...process.env,
    PORT: String(port),
    HOST: '127.0.0.1',
    IAM_DATA_DIR: join(dir, 'data'),
    IAM_LOG_LEVEL: 'warn',
    IAM_WORKERS: '1',
    IAM_BOOTSTRAP_ADMIN_EMAIL: 'admin@write-cost.test',
    IAM_BOOTSTRAP_ADMIN_PASSWORD: password,
  },
  stdio: ['ignore', 'pipe', 'pipe'],
});
const log = createWriteStream(join(dir, 'server.log'));
child.stdout.pipe(log);
child.stderr.pipe(log);
const url = `http://127.0.0.1:${port}`;

try {
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the server exited (${child.exitCode}): ${join(dir, 'server.log')}`);
    const ready = await fetch(`${url}/readyz`).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ready) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  const grant = new URLSearchParams({ grant_type: 'password', username: 'admin@write-cost.test', password });
  const token = (await (await fetch(`${url}/api/v1/auth/tokens`, { method: 'POST', body: grant })).json()).access_token;
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  const create = async (name, parentId) => {
    const res = await fetch(`${url}/api/v1/orgs`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ name, parentId }),
    });
    if (res.status !== 201) throw new Error(`create ${name}: ${res.status} ${await res.text()}`);
    return (await res.json()).id;
  };
  let level = [await create('root', null)];
  for (let depth = 1; depth <= 4; depth++) {
    const next = [];
    for (const parent of level) for (let i = 0; i < 3; i++) next.push(await create(`l${depth}-${next.length}`, parent));
    level = next;
  }
  // The server is the one process (IAM_WORKERS=1).
  const pid = child.pid;
  const ticks = () => {
    const out = { main: 0, other: 0 };
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try {
        const fields = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8').split(') ')[1].split(' ');
        out[tid === String(pid) ? 'main' : 'other'] += Number(fields[11]) + Number(fields[12]);
      } catch {
        // A thread that ended meanwhile.
      }
    }
    return out;
  };
  const io = () =>
    Object.fromEntries(
      readFileSync(`/proc/${pid}/io`, 'utf8')
        .trim()
        .split('\n')
        .map((line) => line.split(': '))
        .map(([k, v]) => [k, Number(v)]),
    );
  let n = 0;
  const load = (amount) =>
    new Promise((done, fail) =>
      autocannon(
        {
          url,
          connections: Number(opts.connections),
          amount,
          requests: [
            {
              method: 'POST',
              path: '/api/v1/orgs',
              headers,
              setupRequest: (req) => ({
                ...req,
                body: JSON.stringify({ name: `c ${++n}`, parentId: level[n % level.length] }),
              }),
            },
          ],
        },
        (error, result) => (error ? fail(error) : done(result)),
      ),
    );
  await load(3000);
  const [t0, io0, at0] = [ticks(), io(), Date.now()];
  const result = await load(count);
  const [t1, io1, at1] = [ticks(), io(), Date.now()];
  const ok = result['2xx'];
  const hz = 100; // USER_HZ: /proc's clock ticks per second
  const per = (a, b) => +((b - a) / ok).toFixed(2);
  const report = {
    label: opts.label,
    creations: ok,
    non2xx: result.non2xx,
    perSecond: Math.round(ok / ((at1 - at0) / 1000)),
    p99Ms: result.latency.p99,
    cpuMicrosPerCreation: {
      eventLoop: Math.round(((t1.main - t0.main) * 1e6) / hz / ok),
      otherThreads: Math.round(((t1.other - t0.other) * 1e6) / hz / ok),
    },
    writeCallsPerCreation: per(io0.syscw, io1.syscw),
    kibHandedToKernelPerCreation: +((io1.wchar - io0.wchar) / 1024 / ok).toFixed(2),
    kibWrittenPerCreation: +((io1.write_bytes - io0.write_bytes) / 1024 / ok).toFixed(2),
  };
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  console.log(JSON.stringify(report));
} finally {
  if (child.exitCode === null) child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
}
