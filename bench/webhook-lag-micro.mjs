// Webhook delivery lag (issue 14 target: p99 <= 500 ms to a local receiver, embedded default): starts the built
// standalone server on a fresh data directory, subscribes a receiver on loopback to a root organization's subtree,
// then creates child organizations for SECONDS, and measures, for every delivery, the time from the event's
// `occurredAt` (stamped by the store when it commits) to its arrival at the receiver. The writes come from
// CONCURRENCY closed loops (as fast as the server takes them), or at RATE per second when a rate is given.
//   node bench/webhook-lag-micro.mjs [seconds=10] [concurrency=8] [rate] [--distributed]     (after `npm run build`)
// --distributed: the same against the distributed profile (gateway, command service and projector over PostgreSQL and
// Kafka: DATABASE_URL and KAFKA_BROKERS, else scripts/services; a schema and topic of its own, dropped after), where
// the command service's dispatcher delivers what the separate projector has applied.
// Writes bench/results/<time>-webhook-lag.json and prints one line.
import http from 'node:http';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { ROOT, startService } from './lib/service-process.mjs';
import { freePort } from './lib/process-stats.mjs';
import { distributedServices, startDistributedProcesses, untilWritesAreQuick } from './lib/distributed.mjs';

const DISTRIBUTED = process.argv.includes('--distributed');
const args = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const SECONDS = Number(args[0] ?? 10);
const CONCURRENCY = Number(args[1] ?? 8);
const RATE = args[2] === undefined ? undefined : Number(args[2]);
const PASSWORD = 'bench passphrase of some length';

const received = [];
const receiver = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const at = Date.now();
    received.push({ at, envelope: JSON.parse(Buffer.concat(chunks).toString('utf8')) });
    res.writeHead(204).end();
  });
});
await new Promise((resolve) => receiver.listen(0, '127.0.0.1', resolve));
const hookUrl = `http://127.0.0.1:${receiver.address().port}/hook`;

const dir = mkdtempSync(join(os.tmpdir(), 'arbor-webhook-bench-'));
const log = (line) => console.error(`[webhook-lag] ${line}`);
// e.g. WEBHOOK_BENCH_NODE_ARGS='--cpu-prof --cpu-prof-dir=/tmp/prof' to see where the server's time goes.
const nodeArgs = (process.env.WEBHOOK_BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
let url;
let admin = { email: 'admin@localhost', password: PASSWORD };
let stopServer;
if (DISTRIBUTED) {
  if (nodeArgs.length > 0) process.env.BENCH_NODE_ARGS = nodeArgs.join(' ');
  const stack = await startDistributedProcesses({
    dir,
    services: distributedServices(log),
    log,
    extraEnv: { IAM_WEBHOOKS_ALLOW_PRIVATE_TARGETS: 'true' },
  });
  ({ url, admin } = stack);
  stopServer = () => stack.stop();
} else {
  const port = await freePort();
  url = `http://127.0.0.1:${port}`;
  const server = await startService({
    main: 'apps/standalone/dist/main.js',
    nodeArgs,
    env: {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      IAM_DATA_DIR: dir,
      IAM_BOOTSTRAP_ADMIN_PASSWORD: PASSWORD,
      IAM_WEBHOOKS_ALLOW_PRIVATE_TARGETS: 'true',
      IAM_LOG_LEVEL: 'warn',
    },
    label: 'webhook-lag-server',
    logDir: dir,
    readyUrl: `${url}/readyz`,
  });
  stopServer = () => server.stop();
}

const json = async (method, path, token, body) => {
  const res = await fetch(url + path, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return res.json();
};

try {
  const login = await fetch(`${url}/api/v1/auth/tokens`, {
    method: 'POST',
    body: new URLSearchParams({ grant_type: 'password', username: admin.email, password: admin.password }),
  });
  const token = (await login.json()).access_token;
  const root = await json('POST', '/api/v1/orgs', token, { name: 'Webhook bench' });
  // Distributed: the projector's consumer joins its group first (until then the projector reads the log each second).
  if (DISTRIBUTED)
    await untilWritesAreQuick(() => json('POST', '/api/v1/orgs', token, { name: 'probe', parentId: root.id }));
  await json('POST', `/api/v1/orgs/${root.id}/webhooks`, token, { url: hookUrl, eventTypes: ['OrgCreated'] });

  let created = 0;
  const started = Date.now();
  const until = started + SECONDS * 1000;
  const createOne = async (name) => {
    await json('POST', '/api/v1/orgs', token, { name, parentId: root.id });
    created++;
  };
  if (RATE === undefined) {
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async (_, loop) => {
        for (let i = 0; Date.now() < until; i++) await createOne(`child ${loop}-${i}`);
      }),
    );
  } else {
    // Open loop: the i-th write starts at i / RATE seconds, whether or not earlier ones have been answered.
    const inFlight = [];
    for (let i = 0; started + (i * 1000) / RATE < until; i++) {
      const at = started + (i * 1000) / RATE;
      if (at > Date.now()) await new Promise((r) => setTimeout(r, at - Date.now()));
      inFlight.push(createOne(`child ${i}`));
    }
    await Promise.all(inFlight);
  }
  const deadline = Date.now() + 30_000;
  while (received.length < created && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));

  const lags = received.map((r) => r.at - Date.parse(r.envelope.occurredAt)).sort((a, b) => a - b);
  const pct = (p) => lags[Math.min(lags.length - 1, Math.floor((p / 100) * lags.length))];
  const positions = received.map((r) => r.envelope.position);
  const inOrder = positions.every((p, i) => i === 0 || p > positions[i - 1]);
  const result = {
    startedAt: new Date().toISOString(),
    seconds: SECONDS,
    concurrency: RATE === undefined ? CONCURRENCY : null,
    ratePerSecond: RATE ?? null,
    profile: DISTRIBUTED ? 'distributed' : 'embedded',
    // IAM_WORKERS as the server got it (unset: one HTTP worker per core, the embedded default).
    workers: DISTRIBUTED ? null : (process.env.IAM_WORKERS ?? 'default'),
    created,
    delivered: received.length,
    inOrder,
    lagMs: { p50: pct(50), p90: pct(90), p99: pct(99), max: lags.at(-1) },
    writesPerSecond: Math.round(created / SECONDS),
  };
  const resultsDir = join(ROOT, 'bench/results');
  mkdirSync(resultsDir, { recursive: true });
  const file = join(resultsDir, `${result.startedAt.replace(/:/g, '-').replace(/\.\d+Z$/, 'Z')}-webhook-lag.json`);
  writeFileSync(file, JSON.stringify(result, null, 2) + '\n');
  console.log(
    `webhook lag (${DISTRIBUTED ? 'distributed' : `IAM_WORKERS ${result.workers}`}): ${result.delivered}/${created} delivered${inOrder ? ' in order' : ' OUT OF ORDER'} at ${result.writesPerSecond} writes/s; ` +
      `p50 ${result.lagMs.p50} ms, p90 ${result.lagMs.p90} ms, p99 ${result.lagMs.p99} ms, max ${result.lagMs.max} ms (${file})`,
  );
  if (received.length < created || !inOrder) process.exitCode = 1;
} finally {
  await stopServer();
  receiver.close();
  rmSync(dir, { recursive: true, force: true });
}
