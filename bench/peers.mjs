// Issue 15's side-by-side: the OAuth2 client_credentials grant and RFC 7662 token introspection on two peers,
// Keycloak 26.4.7 and Ory Hydra v2.3.0, measured as bench/run.mjs measures Arbor's `client_credentials` and
// `introspection` rows (the same autocannon loop, warm-up, connections and /proc sampling of the server's process
// tree: bench/lib/load.mjs, bench/lib/process-stats.mjs).
//
//   node bench/peers.mjs [--only keycloak,hydra] [--duration S] [--warmup S] [--connections N] [--hydra-dsn sqlite|memory]
//
// Each peer is fetched and built once into $ARBOR_PEERS_CACHE (default ~/.cache/arbor-bench-peers), started on free
// loopback ports with a fresh data dir under the OS temp dir (removed afterwards unless the peer failed), given a
// confidential client, probed (the token must be an ES256 JWT), measured, and stopped. Results go to
// bench/results/<ISO time>-peers.json; a Markdown table goes to stdout. Not part of `npm test` or CI.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { basic, form, measure, post } from './lib/load.mjs';
import { fmt, table } from './lib/report.mjs';
import { memoryKb, mb } from './lib/process-stats.mjs';
import { ROOT } from './lib/service-process.mjs';
import { cacheDir, jwtHeader, log } from './lib/peers/common.mjs';
import { ensureHydra, startHydra } from './lib/peers/hydra.mjs';
import { ensureKeycloak, startKeycloak } from './lib/peers/keycloak.mjs';

const PEERS = {
  keycloak: { ensure: ensureKeycloak, start: (built, dataDir) => startKeycloak({ home: built.home, dataDir }) },
  hydra: {
    ensure: ensureHydra,
    start: (built, dataDir, opts) => startHydra({ bin: built.bin, dataDir, dsn: opts.hydraDsn }),
  },
};
const EXPECTED_ALG = 'ES256';

/** The command line, with bench/run.mjs's defaults: 10 s measured after a 2 s warm-up, 50 connections. */
function options() {
  const { values } = parseArgs({
    options: {
      only: { type: 'string', default: Object.keys(PEERS).join(',') },
      duration: { type: 'string', default: '10' },
      warmup: { type: 'string', default: '2' },
      connections: { type: 'string', default: '50' },
      'hydra-dsn': { type: 'string', default: 'sqlite' },
    },
  });
  const only = values.only
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const name of only) if (!PEERS[name]) throw new Error(`unknown peer "${name}" (known: ${Object.keys(PEERS)})`);
  if (!['sqlite', 'memory'].includes(values['hydra-dsn']))
    throw new Error(`--hydra-dsn is sqlite or memory, not "${values['hydra-dsn']}"`);
  return {
    only,
    duration: Number(values.duration),
    warmup: Number(values.warmup),
    connections: Number(values.connections),
    hydraDsn: values['hydra-dsn'],
  };
}

/**
 * The probe before any load: one client_credentials request must answer 200 with an access_token that is a JWT
 * signed ES256 (else the comparison would be with another algorithm: throw), and the token must introspect as
 * active. Returns the token (the introspection load's body) and its header.
 */
async function probe(name, peer, introspectHeaders) {
  const tokenRes = await post(peer.tokenUrl, peer.tokenPath, form({ grant_type: 'client_credentials' }), {
    authorization: basic(peer.clientId, peer.secret),
  });
  if (tokenRes.status !== 200 || !tokenRes.json?.access_token) {
    throw new Error(`${name}: token probe answered ${tokenRes.status}: ${tokenRes.text.slice(0, 300)}`);
  }
  const token = tokenRes.json.access_token;
  const header = jwtHeader(token);
  // Never any of the token itself in the message (it ends up in logs): an opaque token is a bearer secret.
  if (!header) throw new Error(`${name}: the access token is not a JWT (${String(token).length} characters)`);
  if (header.alg !== EXPECTED_ALG) {
    throw new Error(
      `${name}: the access token is signed ${header.alg}, not ${EXPECTED_ALG} (header ${JSON.stringify(header)})`,
    );
  }
  const intro = await post(peer.introspectUrl, peer.introspectPath, form({ token }), introspectHeaders);
  if (intro.status !== 200 || intro.json?.active !== true) {
    throw new Error(`${name}: introspection probe answered ${intro.status}: ${intro.text.slice(0, 300)}`);
  }
  return { token, header, expiresIn: tokenRes.json.expires_in };
}

/**
 * One peer from setup to stop: ensure (fetch/build or the cache), start in a fresh temp dir, probe, then the two
 * loads, each through bench/lib/load.mjs's measure (warm-up, then the measured window with the CPU and peak RSS of
 * the peer's process tree). Returns the peer's summary and its two rows.
 */
async function runPeer(name, opts) {
  const def = PEERS[name];
  const built = await def.ensure(cacheDir());
  log(`${name}: ${built.cached ? 'cached' : `set up in ${built.setupSeconds.toFixed(0)} s`}; starting`);
  const dataDir = mkdtempSync(join(os.tmpdir(), `arbor-peer-${name}-`));
  let peer;
  let failed = true;
  try {
    peer = await def.start(built, dataDir, opts);
    const atReady = memoryKb(peer.pid);
    log(`${name} ${peer.version}: ready in ${peer.secondsToReady.toFixed(1)} s (pid ${peer.pid}); probing`);
    const clientAuth = basic(peer.clientId, peer.secret);
    const introspectHeaders =
      peer.introspectHeaders === 'client' ? { authorization: clientAuth } : peer.introspectHeaders;
    const probed = await probe(name, peer, introspectHeaders);
    const form = { 'content-type': 'application/x-www-form-urlencoded' };
    const loads = [
      {
        name: 'client_credentials',
        what: `POST ${peer.tokenPath} grant_type=client_credentials, HTTP Basic, one client`,
        server: { url: peer.tokenUrl, pid: peer.pid },
        req: {
          method: 'POST',
          path: peer.tokenPath,
          headers: { ...form, authorization: clientAuth },
          body: 'grant_type=client_credentials',
        },
      },
      {
        name: 'introspection',
        what: `POST ${peer.introspectPath} token=<one client token>${peer.introspectHeaders === 'client' ? ", the client's HTTP Basic" : ', no authentication (admin port)'}`,
        server: { url: peer.introspectUrl, pid: peer.pid },
        req: {
          method: 'POST',
          path: peer.introspectPath,
          headers: { ...form, ...introspectHeaders },
          body: `token=${encodeURIComponent(probed.token)}`,
        },
      },
    ];
    const rows = [];
    for (const l of loads) {
      log(`${name}: ${l.name} (${opts.warmup} s warm-up, ${opts.duration} s, ${opts.connections} connections)`);
      const [r] = await measure(l.server, [{ req: l.req, connections: opts.connections }], opts);
      rows.push({ name: `${name} ${l.name}`, peer: name, workload: l.name, what: l.what, ...r });
      log(`${name}: ${l.name} ${r.okPerSecond} ok/s, p99 ${r.latencyMs.p99} ms`);
    }
    const summary = {
      peer: name,
      version: peer.version,
      tokenHeader: probed.header,
      tokenExpiresIn: probed.expiresIn,
      setup: { cached: built.cached, seconds: built.setupSeconds, firstSetupSeconds: built.firstSetupSeconds },
      secondsToReady: Math.round(peer.secondsToReady * 100) / 100,
      rssAtReadyMb: mb(atReady.rss),
      processes: atReady.processes,
      ...peer.details,
    };
    failed = false;
    return { summary, rows };
  } finally {
    if (peer) log(`${name}: stopped (${JSON.stringify(await peer.stop())})`);
    if (failed) log(`${name}: failed; its data dir and log stay in ${dataDir}`);
    else rmSync(dataDir, { recursive: true, force: true });
  }
}

/** Arbor's own `client_credentials` and `introspection` rows from the newest full bench/run.mjs result, if any. */
function arborRows() {
  const dir = join(ROOT, 'bench/results');
  const files = readdirSync(dir)
    .filter((f) => /^\d{4}-.*Z\.json$/.test(f))
    .sort();
  for (const file of files.reverse()) {
    try {
      const report = JSON.parse(readFileSync(join(dir, file), 'utf8'));
      const rows = (report.workloads ?? []).filter((w) => ['client_credentials', 'introspection'].includes(w.name));
      if (rows.length) return { file, rows: rows.map((w) => ({ ...w, name: `arbor ${w.name}` })) };
    } catch {
      /* not a bench report */
    }
  }
  return null;
}

const opts = options();
const startedAt = new Date().toISOString();
const report = {
  startedAt,
  machine: {
    cpu: os.cpus()[0]?.model,
    cores: os.cpus().length,
    totalMemoryMb: Math.round(os.totalmem() / 2 ** 20),
    node: process.version,
    loadAverageAtStart: os.loadavg().map((x) => Math.round(x * 100) / 100),
  },
  options: opts,
  cache: cacheDir(),
  peers: [],
  workloads: [],
  failures: [],
};
for (const name of opts.only) {
  try {
    const { summary, rows } = await runPeer(name, opts);
    report.peers.push(summary);
    report.workloads.push(...rows);
  } catch (e) {
    log(`${name}: FAILED: ${e.message}`);
    report.failures.push({ peer: name, error: e.message.slice(0, 2000) });
  }
}
const arbor = arborRows();
mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
const file = join(ROOT, 'bench/results', `${startedAt.replace(/:/g, '-').replace(/\.\d+Z$/, 'Z')}-peers.json`);
writeFileSync(file, JSON.stringify({ ...report, arborReference: arbor && { file: arbor.file } }, null, 2) + '\n');
const lines = [
  '',
  `## Peers ${startedAt}`,
  '',
  `${report.machine.cpu} x${report.machine.cores}, node ${process.version}, load average at start ${report.machine.loadAverageAtStart.join(' ')}`,
  `${opts.duration}s per workload after ${opts.warmup}s warm-up, ${opts.connections} connections; CPU is % of one core over the peer's process tree; bench CPU is the load generator's own`,
  '',
  table(report.workloads.concat(arbor?.rows ?? [])),
  ...(arbor ? ['', `(arbor rows: ${arbor.file}, measured by bench/run.mjs, not in this run)`] : []),
  '',
  '| peer | version | token alg | setup (fetch + build) | start to ready | RSS at ready |',
  '|---|---|---|---:|---:|---:|',
  ...report.peers.map(
    (p) =>
      `| ${p.peer} | ${p.version} | ${p.tokenHeader.alg} | ${p.setup.cached ? 'cached' : 'now'}, took ${fmt(p.setup.firstSetupSeconds)} s | ${fmt(p.secondsToReady, 1)} s | ${fmt(p.rssAtReadyMb, 1)} MB |`,
  ),
  ...report.failures.map((f) => `\nFAILED ${f.peer}: ${f.error.split('\n')[0]}`),
  '',
  `results: ${file}`,
  '',
];
process.stdout.write(lines.join('\n'));
process.exitCode = report.failures.length ? 1 : 0;
