#!/usr/bin/env node
// Arbor benchmark suite: `npm run bench` (builds first), or `node bench/run.mjs` after `npm run build`.
// Seeds a fresh data directory through the real SQLite adapters (no HTTP), starts the standalone server as a
// child process, drives it with autocannon from this process, and prints/writes one row per workload.
// See bench/README.md. Never part of `npm test`.
import { spawn, execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, createWriteStream, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const require = createRequire(import.meta.url);
const autocannon = require('autocannon');
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const wallStart = Date.now();

// ---------------------------------------------------------------------------------------------- options

const { values: argv } = parseArgs({
  options: {
    orgs: { type: 'string' },
    users: { type: 'string' },
    clients: { type: 'string' },
    duration: { type: 'string' },
    warmup: { type: 'string' },
    connections: { type: 'string' },
    'flood-connections': { type: 'string' },
    'data-dir': { type: 'string' },
    keep: { type: 'boolean' },
    only: { type: 'string' },
    quick: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (argv.help) {
  process.stdout.write(`usage: npm run bench -- [--quick] [--orgs N] [--users N] [--clients N] [--duration S] [--warmup S]
                      [--connections N] [--flood-connections N] [--data-dir DIR] [--keep]
                      [--only name,name]
every option can also be given as an environment variable: BENCH_ORGS, BENCH_DURATION, BENCH_QUICK=1, ...\n`);
  process.exit(0);
}
const env = (name) => process.env[`BENCH_${name.toUpperCase().replace(/-/g, '_')}`];
const quick = argv.quick ?? ['1', 'true'].includes(env('quick') ?? '');
const num = (name, dflt) => {
  const raw = argv[name] ?? env(name);
  if (raw === undefined || raw === '') return dflt;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} must be a positive number, not "${raw}"`);
  return n;
};
const opts = {
  quick,
  orgs: Math.floor(num('orgs', quick ? 3_000 : 100_000)),
  users: Math.floor(num('users', quick ? 3_000 : 100_000)),
  clients: Math.floor(num('clients', quick ? 100 : 1_000)),
  duration: num('duration', quick ? 3 : 10),
  warmup: num('warmup', quick ? 1 : 2),
  connections: Math.floor(num('connections', 50)),
  // More than the password hasher's bound (2 running + 64 waiting), so the flood really sheds with 429.
  floodConnections: Math.floor(num('flood-connections', 100)),
  dataDir: argv['data-dir'] ?? env('data-dir'),
  keep: argv.keep ?? ['1', 'true'].includes(env('keep') ?? ''),
  /** Comma-separated workload names; all by default (the empty route always runs: it is the floor). */
  only: (argv.only ?? env('only'))?.split(',').map((x) => x.trim()).filter(Boolean),
};
if (opts.users < 1000 + 10) throw new Error('--users must be at least 1010 (hot organizations take 1,000 members)');

const log = (msg) => process.stderr.write(`[bench ${((Date.now() - wallStart) / 1000).toFixed(1)}s] ${msg}\n`);

// ---------------------------------------------------------------------------------------------- seeding

/** Largest branching factor whose complete tree of `n` nodes still reaches depth 10 (2 at least). */
function branchingFor(n) {
  let b = 2;
  for (;;) {
    const next = b + 1;
    const upToDepth9 = (next ** 10 - 1) / (next - 1);
    if (upToDepth9 >= n) return b;
    b = next;
  }
}

async function seed(dir) {
  const { openSqliteEventStore, openSqliteSecretVault } = require('@arbor/sqlite');
  const { PersonalDataCipher, PasswordHasher, ClientSecretHasher } = require('@arbor/application');
  const { newId, orgStreamId, userStreamId, membershipStreamId, clientStreamId } = require('@arbor/domain');

  const started = Date.now();
  const store = openSqliteEventStore(join(dir, 'events.sqlite'));
  const vault = openSqliteSecretVault(join(dir, 'vault.sqlite'));
  // Seeding only: one fsync per sealed user's data key would make seeding minutes long. The server reopens the
  // vault with its own settings (synchronous = FULL).
  vault.db?.pragma('synchronous = OFF');
  // A bigger page cache for the seeding connection only: the event_orgs index takes random inserts.
  store.writer?.pragma('cache_size = -262144');
  const cipher = new PersonalDataCipher(vault);
  const hasher = new PasswordHasher();
  const secrets = new ClientSecretHasher(vault);
  const actor = { type: 'system', id: 'bench' };

  let pending = [];
  let events = 0;
  const flush = async () => {
    const batch = pending;
    pending = [];
    if (batch.length === 0) return;
    await store.transaction(async (tx) => {
      for (const e of batch) {
        const r = await tx.append(e.streamId, [{ type: e.type, data: e.data, actor, orgPath: e.orgPath }], 'no_stream');
        if (!r.ok) throw new Error(`seed append failed on ${e.streamId}: ${JSON.stringify(r)}`);
      }
    });
    events += batch.length;
  };
  const emit = async (streamId, type, data, orgPath) => {
    pending.push({ streamId, type, data, orgPath });
    if (pending.length >= 5000) await flush();
  };

  // The admin first, a platform admin with a password, so the server's bootstrap does nothing.
  const admin = { id: newId('usr'), email: 'admin@bench.test', password: `bench-admin-${newId('pw')}` };
  await vault.setPasswordHash(admin.id, await hasher.hash(admin.password));
  await emit(userStreamId(admin.id), 'UserCreated', {
    userId: admin.id,
    personal: await cipher.seal(admin.id, { email: admin.email, name: 'Bench admin' }),
    platformAdmin: true,
  }, []);

  // Organizations: a complete b-ary tree in breadth-first order (parents before children), depth >= 10.
  const n = opts.orgs;
  const b = branchingFor(n);
  const ids = new Array(n);
  const parent = new Int32Array(n);
  const depth = new Uint8Array(n);
  const pathOf = (i) => {
    const p = [];
    for (let k = i; k >= 0; k = k === 0 ? -1 : parent[k]) p.push(ids[k]);
    return p.reverse();
  };
  for (let i = 0; i < n; i++) {
    ids[i] = newId('org');
    parent[i] = i === 0 ? -1 : Math.floor((i - 1) / b);
    depth[i] = i === 0 ? 0 : depth[parent[i]] + 1;
    await emit(orgStreamId(ids[i]), 'OrgCreated', {
      orgId: ids[i],
      name: i === 0 ? 'Bench root' : `Org ${i}`,
      parentId: i === 0 ? null : ids[parent[i]],
      description: null,
      metadata: {},
    }, pathOf(i));
  }
  const maxDepth = depth[n - 1];
  const atDepth = (d) => {
    const out = [];
    for (let i = 0; i < n; i++) if (depth[i] === d) out.push(i);
    return out;
  };
  const level3 = atDepth(Math.min(3, maxDepth));
  const level4 = atDepth(Math.min(4, maxDepth));
  const level5 = atDepth(Math.min(5, maxDepth));
  const leaves = atDepth(maxDepth);
  log(`seeded ${n} orgs (branching ${b}, depth ${maxDepth}) in ${((Date.now() - started) / 1000).toFixed(1)}s`);

  // Users: personal data sealed under each user's own key; passwords only for a few login users.
  const loginUsers = [];
  const userIds = new Array(opts.users);
  for (let i = 0; i < opts.users; i++) {
    const id = (userIds[i] = newId('usr'));
    const email = `user${i}@bench.test`;
    if (i < 4) {
      const password = `bench-password-${i}-${newId('pw')}`;
      await vault.setPasswordHash(id, await hasher.hash(password));
      loginUsers.push({ email, password });
    }
    await emit(userStreamId(id), 'UserCreated', { userId: id, personal: await cipher.seal(id, { email, name: `Bench User ${i}` }), platformAdmin: false }, []);
  }
  log(`seeded ${opts.users} users in ${((Date.now() - started) / 1000).toFixed(1)}s`);

  // Memberships: 10 "hot" organizations (depth 3) with 100 members each; every other user in one organization.
  const hot = level3.slice(0, 10);
  for (let i = 0; i < opts.users; i++) {
    const org = i < 1000 ? hot[i % hot.length] : (i * 7919) % n;
    const roles = i % 10 === 0 ? ['admin'] : ['member'];
    await emit(membershipStreamId(ids[org], userIds[i]), 'UserAddedToOrg', { orgId: ids[org], userId: userIds[i], roles }, pathOf(org));
  }

  // Client credentials, secrets kept in memory for the load.
  const clients = [];
  for (let i = 0; i < opts.clients; i++) {
    const id = newId('cc');
    const clientId = newId('cli');
    const secret = ClientSecretHasher.newSecret();
    await vault.setClientSecretHash(id, await secrets.hash(secret));
    const org = (i * 104729) % n;
    await emit(clientStreamId(id), 'ClientCredentialIssued', {
      clientCredentialId: id, clientId, name: `Bench client ${i}`, orgId: ids[org], scopes: ['orgs:read', 'users:read'],
    }, pathOf(org));
    clients.push({ clientId, secret });
  }
  await flush();
  await store.close();
  await vault.close();
  const seconds = (Date.now() - started) / 1000;
  log(`seeded ${events} events in ${seconds.toFixed(1)}s`);

  const pick = (arr, k) => Array.from({ length: Math.min(k, arr.length) }, (_, j) => arr[Math.floor((j * arr.length) / Math.min(k, arr.length))]);
  return {
    stats: { orgs: n, users: opts.users + 1, memberships: opts.users, clients: opts.clients, branching: b, maxDepth, events, seconds },
    admin,
    loginUsers,
    clients,
    rootId: ids[0],
    midId: ids[level5[0]],
    midDepth: depth[level5[0]],
    orgIds: ids,
    leafIds: pick(leaves, 1000).map((i) => ids[i]),
    hotOrgIds: hot.map((i) => ids[i]),
    createParentIds: pick(level4, 100).map((i) => ids[i]),
  };
}

// ---------------------------------------------------------------------------------------------- processes

const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
  } catch {
    return 100;
  }
})();

function cpuSeconds(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLK_TCK; // utime + stime
  } catch {
    return NaN;
  }
}

function memoryKb(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const get = (k) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? NaN);
    return { rss: get('VmRSS'), hwm: get('VmHWM'), anon: get('RssAnon'), file: get('RssFile') + get('RssShmem') };
  } catch {
    return { rss: NaN, hwm: NaN, anon: NaN, file: NaN };
  }
}

/** Resets VmHWM to the current RSS (Linux >= 4.0), so each workload gets its own peak. */
function resetPeak(pid) {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

/** Samples a process's RSS while a measurement runs. */
function rssSampler(pid, everyMs = 200) {
  let peak = 0;
  let peakAnon = 0;
  const sample = () => {
    const { rss, hwm, anon } = memoryKb(pid);
    peak = Math.max(peak, Number.isFinite(rss) ? rss : 0, Number.isFinite(hwm) ? hwm : 0);
    if (Number.isFinite(anon)) peakAnon = Math.max(peakAnon, anon);
  };
  sample();
  const timer = setInterval(sample, everyMs);
  return {
    /** Stops sampling; the peak RSS in kB (VmHWM included, so spikes between samples count too). */
    stop() {
      sample();
      clearInterval(timer);
      return peak;
    },
    /** The highest anonymous RSS (heap, SQLite caches; not mapped files) seen by a sample, in kB. */
    get peakAnon() {
      return peakAnon;
    },
  };
}

const mb = (kb) => (Number.isFinite(kb) ? Math.round((kb / 1024) * 10) / 10 : null);

function freePort() {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.once('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => res(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function startServer(dir, label) {
  const port = await freePort();
  const out = createWriteStream(join(dir, `server-${label}.log`));
  const started = process.hrtime.bigint();
  const child = spawn(process.execPath, [join(ROOT, 'apps/standalone/dist/main.js')], {
    cwd: ROOT,
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', IAM_DATA_DIR: dir, IAM_LOG_LEVEL: 'warn', IAM_BENCH_ROUTES: 'true' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.pipe(out);
  child.stderr.pipe(out);
  let exited = null;
  child.once('exit', (code, signal) => (exited = { code, signal }));
  const url = `http://127.0.0.1:${port}`;
  const sampler = rssSampler(child.pid, 100);
  const deadline = Date.now() + 30 * 60_000;
  for (;;) {
    if (exited) {
      sampler.stop();
      throw new Error(`server exited during start (${JSON.stringify(exited)}); see ${join(dir, `server-${label}.log`)}:\n${readFileSync(join(dir, `server-${label}.log`), 'utf8').slice(-2000)}`);
    }
    if (Date.now() > deadline) throw new Error('server did not become ready within 30 minutes');
    try {
      const res = await fetch(`${url}/readyz`);
      if (res.status === 200) break;
    } catch {
      /* not listening yet */
    }
    await sleep(20);
  }
  const startSeconds = Number(process.hrtime.bigint() - started) / 1e9;
  const startPeakKb = sampler.stop();
  const mem = memoryKb(child.pid);
  return {
    url,
    pid: child.pid,
    child,
    startSeconds,
    startPeakRssMb: mb(Math.max(startPeakKb, mem.hwm)),
    readyRssMb: mb(mem.rss),
    readyRssAnonMb: mb(mem.anon),
    cpuAtReady: cpuSeconds(child.pid),
    async stop() {
      if (exited) return exited;
      const done = new Promise((r) => child.once('exit', (code, signal) => r({ code, signal })));
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
      const result = await done;
      clearTimeout(t);
      return result;
    },
  };
}

// ---------------------------------------------------------------------------------------------- HTTP helpers

async function post(url, path, body, headers = {}) {
  const isForm = typeof body === 'string';
  const res = await fetch(url + path, {
    method: 'POST',
    headers: { 'content-type': isForm ? 'application/x-www-form-urlencoded' : 'application/json', ...headers },
    body: isForm ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, json, text };
}

const form = (o) => new URLSearchParams(o).toString();
const basic = (id, secret) => `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;

async function passwordToken(url, user) {
  const r = await post(url, '/api/v1/auth/tokens', form({ grant_type: 'password', username: user.email, password: user.password }));
  if (r.status !== 200) throw new Error(`password grant for ${user.email} failed: ${r.status} ${r.text}`);
  return r.json.access_token;
}

async function clientToken(url, c) {
  const r = await post(url, '/api/v1/auth/tokens', 'grant_type=client_credentials', { authorization: basic(c.clientId, c.secret) });
  if (r.status !== 200) throw new Error(`client_credentials for ${c.clientId} failed: ${r.status} ${r.text}`);
  return r.json.access_token;
}

/** One request of a workload, made before the load, so a broken workload is reported as such. */
async function probe(url, req) {
  const r = req.setupRequest ? req.setupRequest({ ...req, headers: { ...req.headers } }) : req;
  const res = await fetch(url + r.path, { method: r.method ?? 'GET', headers: r.headers, body: r.body });
  const text = await res.text();
  return { status: res.status, body: text.slice(0, 300) };
}

const rand = (arr) => arr[Math.floor(Math.random() * arr.length)];

// ---------------------------------------------------------------------------------------------- measuring

function runCannon(url, req, connections, duration) {
  return autocannon({
    url,
    connections,
    duration,
    timeout: 20,
    requests: [req],
  });
}

function summarize(r, seconds) {
  const byStatus = {};
  for (const [code, v] of Object.entries(r.statusCodeStats ?? {})) if (!code.startsWith('2')) byStatus[code] = v.count;
  const ok = r['2xx'];
  const total = r['1xx'] + r['2xx'] + r['3xx'] + r['4xx'] + r['5xx'];
  return {
    okPerSecond: Math.round(ok / seconds),
    requestsPerSecond: Math.round(total / seconds),
    latencyMs: { p50: r.latency.p50, p90: r.latency.p90, p99: r.latency.p99, max: r.latency.max, mean: r.latency.average },
    ok,
    total,
    non2xx: byStatus,
    errors: r.errors,
    timeouts: r.timeouts,
    seconds: Math.round(seconds * 100) / 100,
  };
}

/**
 * Runs the given loads at the same time (the first one is the workload, the others ride along), after a warm-up
 * that is not counted, and measures the server's CPU and memory over the measured window.
 */
async function measure(server, loads) {
  await Promise.all(loads.filter((l) => l.warmup !== false).map((l) => runCannon(server.url, l.req, l.connections, opts.warmup)));
  const peakReset = resetPeak(server.pid);
  const cpu0 = cpuSeconds(server.pid);
  const self0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const sampler = rssSampler(server.pid);
  const results = await Promise.all(loads.map((l) => runCannon(server.url, l.req, l.connections, opts.duration)));
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu1 = cpuSeconds(server.pid);
  const self1 = process.cpuUsage(self0);
  const sampledPeak = sampler.stop();
  const { hwm } = memoryKb(server.pid);
  const server_ = {
    cpuPercent: Math.round(((cpu1 - cpu0) / seconds) * 1000) / 10,
    // With the reset, VmHWM is this window's peak; without it (older kernels), only the samples count.
    peakRssMb: mb(peakReset ? Math.max(hwm, sampledPeak) : sampledPeak),
    peakRssAnonSampledMb: mb(sampler.peakAnon),
    // The load generator shares the machine: near 100% here means autocannon, not the server, was the limit.
    loadGeneratorCpuPercent: Math.round(((self1.user + self1.system) / 1e6 / seconds) * 1000) / 10,
    loadAverage1m: Math.round(os.loadavg()[0] * 100) / 100,
  };
  return results.map((r, i) => ({ ...summarize(r, seconds), connections: loads[i].connections, server: server_ }));
}

// ---------------------------------------------------------------------------------------------- workloads

function workloads(s, t) {
  const bearer = () => ({ authorization: `Bearer ${t.admin()}` });
  const auth = (req) => ({ ...req, setupRequest: (r) => ((r.headers = { ...r.headers, ...bearer() }), req.setupRequest ? req.setupRequest(r) : r) });
  const clientAuth = s.clients.map((c) => basic(c.clientId, c.secret));
  let created = 0;
  const runTag = Date.now().toString(36);
  const getOrg = auth({ method: 'GET', path: '/', setupRequest: (r) => ((r.path = `/api/v1/orgs/${rand(s.orgIds)}`), r) });
  return [
    { name: 'empty_route', what: 'GET /__bench/empty (plain express, no auth): the floor', req: { method: 'GET', path: '/__bench/empty' } },
    {
      name: 'client_credentials',
      what: `POST /auth/tokens grant_type=client_credentials, Basic auth, ${s.clients.length} clients`,
      req: {
        method: 'POST',
        path: '/api/v1/auth/tokens',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'grant_type=client_credentials',
        setupRequest: (r) => ((r.headers = { ...r.headers, authorization: rand(clientAuth) }), r),
      },
    },
    {
      name: 'introspection',
      what: 'POST /auth/tokens/introspect (admin bearer, client token)',
      expect: /"active":true/,
      req: auth({
        method: 'POST',
        path: '/api/v1/auth/tokens/introspect',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        setupRequest: (r) => ((r.body = `token=${rand(t.clientTokens)}`), r),
      }),
    },
    { name: 'get_org', what: `GET /orgs/{id}, random among ${s.orgIds.length}`, req: getOrg },
    { name: 'children_root', what: 'GET /orgs/{root}/children?depth=all (first page)', expect: /"items":\[\{/, req: auth({ method: 'GET', path: `/api/v1/orgs/${s.rootId}/children?depth=all` }) },
    { name: 'children_mid', what: `GET /orgs/{depth-${s.midDepth} org}/children?depth=all`, expect: /"items":\[\{/, req: auth({ method: 'GET', path: `/api/v1/orgs/${s.midId}/children?depth=all` }) },
    {
      name: 'parents_leaf',
      what: `GET /orgs/{depth-${s.stats.maxDepth} leaf}/parents`,
      expect: /"items":\[\{/,
      req: auth({ method: 'GET', path: '/', setupRequest: (r) => ((r.path = `/api/v1/orgs/${rand(s.leafIds)}/parents`), r) }),
    },
    {
      name: 'org_users',
      what: 'GET /orgs/{id}/users (100 members, first page)',
      expect: /"items":\[\{/,
      req: auth({ method: 'GET', path: '/', setupRequest: (r) => ((r.path = `/api/v1/orgs/${rand(s.hotOrgIds)}/users`), r) }),
    },
    {
      name: 'create_org',
      what: `POST /orgs under ${s.createParentIds.length} depth-4 parents (a command)`,
      req: auth({
        method: 'POST',
        path: '/api/v1/orgs',
        headers: { 'content-type': 'application/json' },
        setupRequest: (r) => ((r.body = JSON.stringify({ name: `bench ${runTag} ${++created}`, parentId: rand(s.createParentIds) })), r),
      }),
    },
    {
      name: 'password_grant_flood',
      what: `POST /auth/tokens grant_type=password, ${opts.floodConnections} connections (scrypt-bound)`,
      connections: opts.floodConnections,
      warmup: false,
      req: {
        method: 'POST',
        path: '/api/v1/auth/tokens',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        setupRequest: (r) => {
          const u = rand(s.loginUsers);
          r.body = form({ grant_type: 'password', username: u.email, password: u.password });
          return r;
        },
      },
      alongside: { name: 'get_org_during_flood', what: 'GET /orgs/{id}, 10 connections, during the password flood', connections: 10, req: getOrg },
    },
  ];
}

// ---------------------------------------------------------------------------------------------- report

const fmt = (n, d = 0) => (n === null || n === undefined || Number.isNaN(n) ? '-' : Number(n).toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d }));

function table(rows, floor) {
  const head = ['workload', 'ok/s', '% of empty', 'p50 ms', 'p99 ms', 'non-2xx', 'errors', 'server CPU %', 'peak RSS MB', 'bench CPU %'];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map((h, i) => (i === 0 ? '---' : '---:')).join('|')}|`];
  for (const r of rows) {
    const non2xx = Object.entries(r.non2xx).map(([k, v]) => `${k}:${v}`).join(' ') || '0';
    lines.push(
      `| ${r.name} | ${fmt(r.okPerSecond)} | ${floor ? fmt((100 * r.okPerSecond) / floor, 1) : '-'} | ${fmt(r.latencyMs.p50, 1)} | ${fmt(r.latencyMs.p99, 1)} | ${non2xx} | ${r.errors + r.timeouts} | ${fmt(r.server.cpuPercent)} | ${fmt(r.server.peakRssMb, 1)} | ${fmt(r.server.loadGeneratorCpuPercent)} |`,
    );
  }
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------------- main

async function main() {
  for (const f of ['apps/standalone/dist/main.js', 'apps/projector/dist/main.js', 'libs/sqlite/dist/index.js']) {
    if (!existsSync(join(ROOT, f))) throw new Error(`${f} is missing: run \`npm run build\` first (npm run bench does).`);
  }
  const dir = opts.dataDir ? resolve(opts.dataDir) : mkdtempSync(join(os.tmpdir(), 'arbor-bench-'));
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (existsSync(join(dir, 'events.sqlite'))) throw new Error(`${dir} already holds an event log; give an empty --data-dir`);
  log(`data dir ${dir}; ${opts.orgs} orgs, ${opts.users} users, ${opts.clients} clients; ${opts.duration}s per workload (+${opts.warmup}s warm-up), ${opts.connections} connections`);
  const loadBefore = os.loadavg();

  const s = await seed(dir);
  const report = {
    startedAt: new Date(wallStart).toISOString(),
    options: { ...opts, dataDir: undefined },
    machine: {
      cpu: os.cpus()[0]?.model,
      cores: os.cpus().length,
      totalMemoryMb: Math.round(os.totalmem() / 2 ** 20),
      node: process.version,
      platform: `${os.platform()} ${os.release()}`,
      loadAverageAtStart: loadBefore.map((x) => Math.round(x * 100) / 100),
    },
    commit: (() => {
      try {
        const sha = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
        const dirty = execFileSync('git', ['status', '--porcelain'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim() !== '';
        return dirty ? `${sha}+dirty` : sha;
      } catch {
        return null;
      }
    })(),
    seed: s.stats,
    startup: {},
    workloads: [],
    rebuild: null,
  };

  log('starting the server (cold: it projects the seeded log before it is ready)');
  const server = await startServer(dir, 'cold');
  report.startup.cold = { secondsToReady: Math.round(server.startSeconds * 1000) / 1000, peakRssMb: server.startPeakRssMb, rssAtReadyMb: server.readyRssMb, rssAnonAtReadyMb: server.readyRssAnonMb, cpuSeconds: server.cpuAtReady };
  log(`server ready in ${server.startSeconds.toFixed(2)}s (cold), RSS ${server.readyRssMb} MB`);

  let adminToken = await passwordToken(server.url, s.admin);
  let adminTokenAt = Date.now();
  const clientTokens = [];
  for (const c of s.clients.slice(0, 20)) clientTokens.push(await clientToken(server.url, c));
  const tokens = {
    admin: () => adminToken,
    clientTokens,
  };
  const refreshAdmin = async () => {
    if (Date.now() - adminTokenAt > 8 * 60_000) {
      adminToken = await passwordToken(server.url, s.admin);
      adminTokenAt = Date.now();
    }
  };

  let failures = 0;
  try {
    for (const w of workloads(s, tokens).filter((w) => !opts.only || w.name === 'empty_route' || opts.only.includes(w.name))) {
      await refreshAdmin();
      const sample = await probe(server.url, w.req);
      if (sample.status >= 300 || (w.expect && !w.expect.test(sample.body))) {
        failures++;
        log(`WARNING ${w.name}: a probe request answered ${sample.status}: ${sample.body}`);
      }
      // A warm-up of the password flood would leave the hash queue full of abandoned requests (each hash takes
      // hundreds of ms), and the measured window would only see 429s: scrypt needs no warming, so it gets none.
      const loads = [{ req: w.req, connections: w.connections ?? opts.connections, warmup: w.warmup }];
      if (w.alongside) loads.push({ req: w.alongside.req, connections: w.alongside.connections });
      log(`${w.name}: ${w.what}`);
      const [main_, along] = await measure(server, loads);
      report.workloads.push({ name: w.name, what: w.what, probe: { status: sample.status, body: sample.body.replace(/"(access_token|refresh_token)":"[^"]*"?/g, '"$1":"…"').slice(0, 160) }, ...main_ });
      if (along) report.workloads.push({ name: w.alongside.name, what: w.alongside.what, ...along });
      log(`  ${main_.okPerSecond}/s ok, p99 ${main_.latencyMs.p99} ms${along ? `; alongside: ${along.okPerSecond}/s, p99 ${along.latencyMs.p99} ms` : ''}`);
    }
  } finally {
    await server.stop();
  }
  report.startup.serverPeakRssMb = Math.max(report.startup.cold.peakRssMb ?? 0, ...report.workloads.map((w) => w.server.peakRssMb ?? 0));

  log('rebuilding the read models from the log (apps/projector --rebuild)');
  report.rebuild = await rebuild(dir);
  log(`rebuild: ${report.rebuild.eventsPerSecond} events/s`);

  log('starting the server again (warm: read models present)');
  const warm = await startServer(dir, 'warm');
  report.startup.warm = { secondsToReady: Math.round(warm.startSeconds * 1000) / 1000, peakRssMb: warm.startPeakRssMb, rssAtReadyMb: warm.readyRssMb, rssAnonAtReadyMb: warm.readyRssAnonMb, cpuSeconds: warm.cpuAtReady };
  await warm.stop();
  log(`warm start ready in ${warm.startSeconds.toFixed(2)}s, RSS ${warm.readyRssMb} MB`);

  report.wallSeconds = Math.round((Date.now() - wallStart) / 100) / 10;
  const floor = report.workloads.find((w) => w.name === 'empty_route')?.okPerSecond;
  for (const w of report.workloads) w.shareOfEmptyRoute = floor ? Math.round((1000 * w.okPerSecond) / floor) / 1000 : null;

  const resultsDir = join(ROOT, 'bench/results');
  mkdirSync(resultsDir, { recursive: true });
  const file = join(resultsDir, `${report.startedAt.replace(/:/g, '-').replace(/\.\d+Z$/, 'Z')}${opts.quick ? '-quick' : ''}.json`);
  writeFileSync(file, JSON.stringify(report, null, 2) + '\n');

  const m = report.machine;
  const out = [
    '',
    `## Arbor bench ${report.startedAt}${opts.quick ? ' (quick)' : ''}`,
    '',
    `${m.cpu} x${m.cores}, ${m.totalMemoryMb} MB, node ${m.node}, load average at start ${m.loadAverageAtStart.join(' ')}; commit ${report.commit ?? '?'}`,
    `seed: ${s.stats.orgs} orgs (depth ${s.stats.maxDepth}, branching ${s.stats.branching}), ${s.stats.users} users, ${s.stats.memberships} memberships, ${s.stats.clients} clients = ${s.stats.events} events in ${s.stats.seconds.toFixed(1)}s`,
    `${opts.duration}s per workload after ${opts.warmup}s warm-up, ${opts.connections} connections (flood ${opts.floodConnections}); CPU is % of one core; bench CPU is the load generator's own`,
    '',
    table(report.workloads, floor),
    '',
    `| start / rebuild | value |`,
    `|---|---:|`,
    `| cold start to ready (projects the seeded log) | ${fmt(report.startup.cold.secondsToReady, 2)} s, RSS at ready ${fmt(report.startup.cold.rssAtReadyMb, 1)} MB (anon ${fmt(report.startup.cold.rssAnonAtReadyMb, 1)}), peak ${fmt(report.startup.cold.peakRssMb, 1)} MB |`,
    `| warm start to ready (read models present) | ${fmt(report.startup.warm.secondsToReady, 2)} s, RSS at ready ${fmt(report.startup.warm.rssAtReadyMb, 1)} MB (anon ${fmt(report.startup.warm.rssAnonAtReadyMb, 1)}), peak ${fmt(report.startup.warm.peakRssMb, 1)} MB |`,
    `| server peak RSS over the whole run | ${fmt(report.startup.serverPeakRssMb, 1)} MB |`,
    `| read-model rebuild | ${fmt(report.rebuild.eventsPerSecond)} events/s (${fmt(report.rebuild.events)} events in ${fmt(report.rebuild.seconds, 1)} s, peak RSS ${fmt(report.rebuild.peakRssMb, 1)} MB) |`,
    '',
    `wall time ${fmt(report.wallSeconds, 1)} s; results: ${file}`,
    '',
  ];
  process.stdout.write(out.join('\n'));

  if (!opts.keep && !opts.dataDir) rmSync(dir, { recursive: true, force: true });
  else log(`data dir kept: ${dir}`);
  if (failures > 0) {
    log(`${failures} workload(s) failed their probe request; see the warnings above`);
    process.exitCode = 1;
  }
}

async function rebuild(dir) {
  const started = process.hrtime.bigint();
  const child = spawn(process.execPath, [join(ROOT, 'apps/projector/dist/main.js'), '--rebuild'], {
    cwd: ROOT,
    env: { ...process.env, IAM_DATA_DIR: dir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const sampler = rssSampler(child.pid, 100);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const cpuAtEnd = { v: NaN };
  const timer = setInterval(() => {
    const c = cpuSeconds(child.pid);
    if (Number.isFinite(c)) cpuAtEnd.v = c;
  }, 100);
  const code = await new Promise((r) => child.once('exit', (c) => r(c)));
  clearInterval(timer);
  const peak = sampler.stop();
  const wall = Number(process.hrtime.bigint() - started) / 1e9;
  if (code !== 0) throw new Error(`projector --rebuild exited with ${code}: ${stderr.slice(-2000)}`);
  let final;
  for (const line of stdout.split('\n').concat(stderr.split('\n'))) {
    try {
      const j = JSON.parse(line);
      if (j && j.eventsPerSecond !== undefined) final = j;
    } catch {
      /* not JSON */
    }
  }
  if (!final) throw new Error(`projector --rebuild printed no eventsPerSecond:\n${stdout.slice(-2000)}`);
  return { eventsPerSecond: final.eventsPerSecond, events: final.events, seconds: final.seconds, processWallSeconds: Math.round(wall * 100) / 100, peakRssMb: mb(peak), cpuSeconds: cpuAtEnd.v };
}

main().catch((e) => {
  process.stderr.write(`bench failed: ${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});
