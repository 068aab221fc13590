#!/usr/bin/env node
// Arbor benchmark suite: `npm run bench` (builds first), or `node bench/run.mjs` after `npm run build`.
// Seeds a fresh data directory through the real SQLite adapters (no HTTP), starts the standalone server as a
// child process, drives it with autocannon from this process, and prints/writes one row per workload; then the
// same for organization creation in the distributed profile. See bench/README.md. Never part of `npm test`.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { distributedServices, runDistributed } from './lib/distributed.mjs';
import { clientToken, measure, passwordToken, probe } from './lib/load.mjs';
import { rebuild } from './lib/rebuild.mjs';
import { renderReport } from './lib/report.mjs';
import { seed } from './lib/seed.mjs';
import { ROOT, startService } from './lib/service-process.mjs';
import { freePort, mb } from './lib/process-stats.mjs';
import { workloads } from './lib/workloads.mjs';

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
    'embedded-only': { type: 'boolean' },
    'subtree-cache': { type: 'string' },
    workers: { type: 'string' },
    rounds: { type: 'string' },
    quick: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (argv.help) {
  process.stdout
    .write(`usage: npm run bench -- [--quick] [--orgs N] [--users N] [--clients N] [--duration S] [--warmup S]
                      [--connections N] [--flood-connections N] [--data-dir DIR] [--keep]
                      [--only name,name] [--embedded-only] [--subtree-cache N] [--workers 1,2]
                      [--rounds N]
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
  /** Skips the distributed workload (which needs PostgreSQL and Kafka: DATABASE_URL/KAFKA_BROKERS or scripts/services). */
  embeddedOnly: argv['embedded-only'] ?? ['1', 'true'].includes(env('embedded-only') ?? ''),
  /** Comma-separated workload names; all by default (the empty route always runs: it is the floor). */
  only: (argv.only ?? env('only'))
    ?.split(',')
    .map((x) => x.trim())
    .filter(Boolean),
  /** The server's IAM_SUBTREE_CACHE_ENTRIES (its default when absent; 0 measures every children/parents read uncached). */
  subtreeCache: argv['subtree-cache'] ?? env('subtree-cache'),
  /**
   * The selected workloads run this many times against each server, in turn (a, b, a, b, ...): two workloads
   * compared this way meet the same drift of the VM, and the report gives each one's median and spread.
   */
  rounds: Math.floor(num('rounds', 1)),
};
/**
 * The server's IAM_WORKERS, one run of every workload per value, in order (--workers 1,2): the report then has a
 * column per count and the scaling ratio. Default 1 (one process, as before the HTTP workers).
 */
opts.workers = (argv.workers ?? env('workers') ?? '1').split(',').map((x) => {
  const n = Number(x.trim());
  if (!Number.isInteger(n) || n < 1 || n > 64)
    throw new Error(`--workers takes whole numbers from 1 to 64, not "${x}"`);
  return n;
});
if (opts.subtreeCache !== undefined && !/^\d+$/.test(opts.subtreeCache))
  throw new Error(`--subtree-cache must be a whole number, not "${opts.subtreeCache}"`);
if (opts.users < 1000 + 10) throw new Error('--users must be at least 1010 (hot organizations take 1,000 members)');

const log = (msg) => process.stderr.write(`[bench ${((Date.now() - wallStart) / 1000).toFixed(1)}s] ${msg}\n`);

async function main() {
  for (const f of ['apps/standalone/dist/main.js', 'apps/projector/dist/main.js', 'libs/sqlite/dist/index.js']) {
    if (!existsSync(join(ROOT, f)))
      throw new Error(`${f} is missing: run \`npm run build\` first (npm run bench does).`);
  }
  const dir = opts.dataDir ? resolve(opts.dataDir) : mkdtempSync(join(os.tmpdir(), 'arbor-bench-'));
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (existsSync(join(dir, 'events.sqlite')))
    throw new Error(`${dir} already holds an event log; give an empty --data-dir`);
  log(
    `data dir ${dir}; ${opts.orgs} orgs, ${opts.users} users, ${opts.clients} clients; ${opts.duration}s per workload (+${opts.warmup}s warm-up), ${opts.connections} connections`,
  );
  const loadBefore = os.loadavg();

  const s = await seed(dir, opts, log);
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
        const sha = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'ignore'] })
          .toString()
          .trim();
        const dirty =
          execFileSync('git', ['status', '--porcelain'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'ignore'] })
            .toString()
            .trim() !== '';
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

  let failures = 0;
  report.startup.byWorkers = {};
  for (const [i, count] of opts.workers.entries()) {
    // The first start projects the seeded log (cold); later ones find the read models there.
    const label = i === 0 ? 'cold' : `workers-${count}`;
    log(
      `starting the server with IAM_WORKERS=${count}${i === 0 ? ' (cold: it projects the seeded log before it is ready)' : ''}`,
    );
    const server = await startServer(dir, label, count);
    const startup = startupFigures(server);
    if (i === 0) report.startup.cold = startup;
    report.startup.byWorkers[count] = { ...startup, cold: i === 0 };
    log(`server ready in ${server.startSeconds.toFixed(2)}s (${label}), RSS ${server.readyRssMb} MB`);
    failures += await runWorkloads(server, s, report, count);
  }
  report.startup.serverPeakRssMb = Math.max(
    report.startup.cold.peakRssMb ?? 0,
    ...report.workloads.filter((w) => !w.reference).map((w) => w.server.peakRssMb ?? 0),
  );

  if (!opts.only || opts.only.includes('reference')) report.workloads.push(...(await referenceWorkloads(dir)));

  log('rebuilding the read models from the log (apps/projector --rebuild)');
  report.rebuild = await rebuild(dir);
  log(`rebuild: ${report.rebuild.eventsPerSecond} events/s`);

  for (const count of opts.workers) {
    log(`starting the server again with IAM_WORKERS=${count} (warm: read models present)`);
    const warm = await startServer(dir, `warm-${count}`, count);
    const figures = startupFigures(warm);
    report.startup.warm ??= figures;
    report.startup.byWorkers[count].warm = figures;
    await warm.stop();
    log(`warm start ready in ${warm.startSeconds.toFixed(2)}s, RSS ${warm.readyRssMb} MB (all processes)`);
  }

  report.distributed = await distributedPart(dir);

  report.wallSeconds = Math.round((Date.now() - wallStart) / 100) / 10;
  // Each row against the empty route of its own worker count (the distributed row: of the first count's).
  const floorOf = (workers) =>
    report.workloads.find((w) => w.name === 'empty_route' && w.workers === (workers ?? opts.workers[0]))?.okPerSecond;
  for (const w of report.workloads.concat(report.distributed.workload ?? [])) {
    const floor = w.reference ? floorOf(opts.workers[0]) : floorOf(w.workers);
    w.shareOfEmptyRoute = floor ? Math.round((1000 * w.okPerSecond) / floor) / 1000 : null;
  }

  const resultsDir = join(ROOT, 'bench/results');
  mkdirSync(resultsDir, { recursive: true });
  const file = join(
    resultsDir,
    `${report.startedAt.replace(/:/g, '-').replace(/\.\d+Z$/, 'Z')}${opts.quick ? '-quick' : ''}.json`,
  );
  writeFileSync(file, JSON.stringify(report, null, 2) + '\n');
  process.stdout.write(renderReport(report, file));

  if (!opts.keep && !opts.dataDir) rmSync(dir, { recursive: true, force: true });
  else log(`data dir kept: ${dir}`);
  if (failures > 0) {
    log(`${failures} workload(s) failed their probe request; see the warnings above`);
    process.exitCode = 1;
  }
}

/** What a start cost, from startServer's answer (RSS summed over the writer and its HTTP workers). */
function startupFigures(server) {
  return {
    secondsToReady: Math.round(server.startSeconds * 1000) / 1000,
    peakRssMb: server.startPeakRssMb,
    rssAtReadyMb: server.readyRssMb,
    rssAnonAtReadyMb: server.readyRssAnonMb,
    pssAtReadyMb: server.readyPssMb,
    heapUsedAtReadyMb: server.heapUsedAtReadyMb,
    cpuSeconds: server.cpuAtReady,
    processes: server.processes,
  };
}

/** Every selected workload against `server` (started with IAM_WORKERS=`workers`); returns how many failed their probe. */
async function runWorkloads(server, s, report, workers) {
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
    const selected = workloads(s, tokens, opts).filter(
      (w) => !opts.only || w.name === 'empty_route' || opts.only.includes(w.name),
    );
    const turns = Array.from({ length: opts.rounds }, (_, r) => selected.map((w) => ({ w, round: r + 1 }))).flat();
    for (const { w, round } of turns) {
      await refreshAdmin();
      // A workload may need state from the server first (the deep searches: a page token halfway through, found
      // by walking the whole result once; the walk is kept in the report).
      const walk = w.prepare ? await w.prepare(server.url) : undefined;
      if (walk) {
        log(
          `  walk: ${walk.results} results of ${walk.expected} expected in ${walk.pages} pages; page ms first ${walk.pageMs.first}, p50 ${walk.pageMs.p50}, max ${walk.pageMs.max} (page ${walk.slowestPage}); halves' p50 ${walk.halvesP50Ms.join(' / ')}; alternating ${walk.alternating.rounds} times, p50 first page ${walk.alternating.firstP50Ms} ms, deep page ${walk.alternating.deepP50Ms} ms`,
        );
        if (!walk.complete) {
          failures++;
          log(`WARNING ${w.name}: the walk found ${walk.results} results, the seed expects ${walk.expected}`);
        }
      }
      const sample = await probe(server.url, w.req);
      // What the report and the log keep of the probe's answer: never a token.
      const sampleBody = sample.body.replace(/"(access_token|refresh_token)":"[^"]*"?/g, '"$1":"…"');
      if (sample.status >= 300 || (w.expect && !w.expect.test(sample.body))) {
        failures++;
        log(`WARNING ${w.name}: a probe request answered ${sample.status}: ${sampleBody}`);
      }
      // A warm-up of the password flood would leave the hash queue full of abandoned requests (each hash takes
      // hundreds of ms), and the measured window would only see 429s: scrypt needs no warming, so it gets none.
      const loads = [
        { req: w.req, connections: w.connections ?? opts.connections, warmup: w.warmup, rate: w.rate, paced: w.paced },
      ];
      if (w.alongside) loads.push({ req: w.alongside.req, connections: w.alongside.connections });
      log(`${w.name} (IAM_WORKERS=${workers}${opts.rounds > 1 ? `, round ${round}` : ''}): ${w.what}`);
      const [main_, along] = await measure(server, loads, opts);
      report.workloads.push({
        name: w.name,
        what: w.what,
        workers,
        ...(opts.rounds > 1 ? { round } : {}),
        probe: {
          status: sample.status,
          body: sampleBody.slice(0, 160),
        },
        ...(walk ? { walk } : {}),
        ...main_,
      });
      if (along)
        report.workloads.push({
          name: w.alongside.name,
          what: w.alongside.what,
          workers,
          ...(opts.rounds > 1 ? { round } : {}),
          ...along,
        });
      log(
        `  ${main_.okPerSecond}/s ok, p99 ${main_.latencyMs.p99} ms${along ? `; alongside: ${along.okPerSecond}/s, p99 ${along.latencyMs.p99} ms` : ''}`,
      );
    }
  } finally {
    await server.stop();
  }
  return failures;
}

/**
 * The standalone server on the seeded directory with IAM_WORKERS=`workers`; `label` names its log file
 * (server-<label>.log). Its pid is the writer's; the bench's CPU and RSS figures add its HTTP workers (process-stats).
 */
async function startServer(dir, label, workers = 1) {
  const port = await freePort();
  const env = {
    ...process.env,
    PORT: String(port),
    HOST: '127.0.0.1',
    IAM_DATA_DIR: dir,
    IAM_LOG_LEVEL: 'warn',
    IAM_BENCH_ROUTES: 'true',
    IAM_WORKERS: String(workers),
  };
  if (opts.subtreeCache !== undefined) env.IAM_SUBTREE_CACHE_ENTRIES = opts.subtreeCache;
  // For profiling: BENCH_NODE_ARGS='--cpu-prof --cpu-prof-dir=/tmp/prof' (as for the distributed processes).
  const nodeArgs = process.env.BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
  const server = await startService({
    main: 'apps/standalone/dist/main.js',
    nodeArgs,
    env,
    label: `server-${label}`,
    logDir: dir,
    readyUrl: `http://127.0.0.1:${port}/readyz`,
  });
  const url = `http://127.0.0.1:${port}`;
  const memory = await fetch(`${url}/__bench/memory`)
    .then((r) => r.json())
    .catch(() => ({}));
  return { ...server, url, stop: server.stop, heapUsedAtReadyMb: mb((memory.heapUsed ?? NaN) / 1024) };
}

/**
 * The yardstick of the issue's targets, measured the same way: plain express 5 in its own process, an empty
 * route and a minimal client_credentials grant (no database; bench/lib/reference-server.mjs).
 */
async function referenceWorkloads(dir) {
  const port = await freePort();
  const secret = 'reference-secret';
  const server = await startService({
    main: 'bench/lib/reference-server.mjs',
    env: { ...process.env, PORT: String(port), REFERENCE_SECRET: secret },
    label: 'reference-server',
    logDir: dir,
    readyUrl: `http://127.0.0.1:${port}/readyz`,
  });
  const url = `http://127.0.0.1:${port}`;
  const rows = [];
  try {
    const token = {
      method: 'POST',
      path: '/token',
      headers: {
        authorization: `Basic ${Buffer.from(`cli_reference:${secret}`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: 'grant_type=client_credentials',
    };
    for (const [name, what, req] of [
      [
        'reference_empty_route',
        'reference: GET /empty on a separate plain express 5 process',
        { method: 'GET', path: '/empty' },
      ],
      [
        'reference_minimal_token',
        'reference: minimal client_credentials on plain express 5 (Basic, SHA-256, ES256; no database)',
        token,
      ],
    ]) {
      log(`${name}: ${what}`);
      const [result] = await measure({ url, pid: server.pid }, [{ req, connections: opts.connections }], opts);
      rows.push({ name, what, reference: true, ...result });
      log(`  ${result.okPerSecond}/s ok, p99 ${result.latencyMs.p99} ms`);
    }
  } finally {
    await server.stop();
  }
  return rows;
}

/** The distributed workload, or why it did not run. */
async function distributedPart(dir) {
  if (opts.embeddedOnly) return { skipped: '--embedded-only' };
  if (opts.only && !opts.only.includes('create_org_distributed'))
    return { skipped: '--only without create_org_distributed' };
  const services = distributedServices(log);
  log('create_org_distributed: POST /orgs through the gateway of the distributed profile');
  const workload = await runDistributed({ dir, opts, log, services });
  const lag = workload.projectionLagMs;
  log(
    `  ${workload.okPerSecond}/s ok, p99 ${workload.latencyMs.p99} ms; projection lag p50 ${lag.p50} ms, p99 ${lag.p99} ms`,
  );
  return { workload };
}

main().catch((e) => {
  process.stderr.write(`bench failed: ${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});
