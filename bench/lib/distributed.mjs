// The distributed profile's workload: organization creation through the gateway (command service, projector and
// gateway as three processes over PostgreSQL and Kafka) and the projection lag it causes, measured from the
// PostgreSQL side: each event's occurred_at (stamped by the command service before it appends) against the
// moment the projector's NOTIFY for a checkpoint at or past that event reached this process, i.e. when the read
// models' transaction holding it had committed. Both clocks are this machine's.
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { measure, passwordToken, post, rand } from './load.mjs';
import { cpuSeconds, freePort } from './process-stats.mjs';
import { ROOT, startService } from './service-process.mjs';

const require = createRequire(import.meta.url);

/** DATABASE_URL and KAFKA_BROKERS from the environment, else from scripts/services (which install/start them). */
export function distributedServices(log) {
  const fromScript = (script, name) => {
    log(`${name} is not set: running ${script} (installs and starts the service when needed)`);
    const out = execFileSync('bash', [join(ROOT, script)], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
      timeout: 10 * 60_000,
    }).toString();
    const line = out
      .split('\n')
      .reverse()
      .find((l) => l.startsWith(`${name}=`));
    if (!line) throw new Error(`${script} printed no ${name}= line`);
    return line.slice(name.length + 1).trim();
  };
  return {
    databaseUrl: process.env.DATABASE_URL || fromScript('scripts/services/postgres.sh', 'DATABASE_URL'),
    kafkaBrokers: process.env.KAFKA_BROKERS || fromScript('scripts/services/kafka.sh', 'KAFKA_BROKERS'),
  };
}

const percentile = (sorted, p) =>
  sorted.length === 0 ? null : sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];

/**
 * Starts the distributed profile's three processes (command service, projector, gateway, in that order, each
 * ready before the next) in a PostgreSQL schema and Kafka topic of their own, over `services` (distributedServices).
 * `extraEnv` adds to their environment. Returns the gateway's `url`, the platform `admin`, the `schema`, the
 * processes (`procs`, for their pids and ready RSS) and `stop({ keep })`: stops them front to back (no request in
 * flight meets a stopped command service), then drops the schema and the topic unless `keep`.
 * For profiling: BENCH_NODE_ARGS='--cpu-prof --cpu-prof-dir=/tmp/prof' writes a profile per process.
 */
export async function startDistributedProcesses({ dir, services, log, extraEnv = {} }) {
  const tag = Date.now().toString(36);
  const schema = `bench_${tag}`;
  const dataDir = join(dir, 'distributed');
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const [port, commandPort] = [await freePort(), await freePort()];
  const admin = { email: 'admin@bench.test', password: `bench-admin-${tag}-distributed` };
  const env = {
    PATH: process.env.PATH ?? '',
    DATABASE_URL: services.databaseUrl,
    KAFKA_BROKERS: services.kafkaBrokers,
    IAM_PG_SCHEMA: schema,
    IAM_KAFKA_TOPIC: `bench.${schema}`,
    IAM_DATA_DIR: dataDir,
    IAM_ISSUER: `http://127.0.0.1:${port}`,
    IAM_BOOTSTRAP_ADMIN_EMAIL: admin.email,
    IAM_BOOTSTRAP_ADMIN_PASSWORD: admin.password,
    IAM_LOG_LEVEL: 'warn',
    PORT: String(port),
    HOST: '127.0.0.1',
    COMMAND_SERVICE_PORT: String(commandPort),
    COMMAND_SERVICE_URL: `http://127.0.0.1:${commandPort}`,
    ...extraEnv,
  };
  const procs = {};
  const nodeArgs = process.env.BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
  const stop = async ({ keep = false } = {}) => {
    // Each stopped whatever the one before did (a failed stop must not leave the others running).
    for (const name of ['gateway', 'projector', 'commandService'])
      await procs[name]?.stop().catch((e) => log(`could not stop the ${name}: ${e.message}`));
    if (keep) return;
    const { Client } = require('pg');
    const db = new Client({ connectionString: services.databaseUrl });
    await db.connect();
    await db
      .query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)
      .catch((e) => log(`could not drop schema ${schema}: ${e.message}`))
      .finally(() => db.end());
    await deleteTopic(services.kafkaBrokers, env.IAM_KAFKA_TOPIC).catch((e) =>
      log(`could not delete topic ${env.IAM_KAFKA_TOPIC}: ${e.message}`),
    );
  };
  try {
    procs.commandService = await startService({
      main: 'apps/command-service/dist/main.js',
      nodeArgs,
      env,
      label: 'distributed-command-service',
      logDir: dir,
      readyUrl: `${env.COMMAND_SERVICE_URL}/readyz`,
    });
    procs.projector = await startService({
      main: 'apps/projector/dist/main.js',
      nodeArgs,
      env,
      label: 'distributed-projector',
      logDir: dir,
    });
    procs.gateway = await startService({
      main: 'apps/gateway/dist/main.js',
      nodeArgs,
      env,
      label: 'distributed-gateway',
      logDir: dir,
      readyUrl: `http://127.0.0.1:${port}/readyz`,
    });
  } catch (e) {
    await stop();
    throw e;
  }
  const url = `http://127.0.0.1:${port}`;
  log(`distributed profile up: schema ${schema}, gateway ${url}`);
  return { url, admin, schema, tag, procs, stop };
}

/**
 * Runs the distributed workload in its own PostgreSQL schema and Kafka topic (dropped afterwards unless `keep`).
 * Returns a workload row like the embedded ones plus `projectionLagMs` and the three processes' CPU.
 */
export async function runDistributed({ dir, opts, log, services }) {
  const { Client } = require('pg');
  const { readModelsProjectionChannel } = require('@arbor/postgres');
  const { url, admin, schema, tag, procs, stop } = await startDistributedProcesses({ dir, services, log });
  const db = new Client({ connectionString: services.databaseUrl });
  try {
    await db.connect();
    const token = await passwordToken(url, admin);
    const bearer = { authorization: `Bearer ${token}` };
    // A small tree (1 + 10 + 100): creation cost depends on the depth of the parent, not the tree's size.
    const createOrg = async (name, parentId) => {
      const r = await post(url, '/api/v1/orgs', { name, parentId }, bearer);
      if (r.status !== 201) throw new Error(`distributed seed: POST /orgs answered ${r.status} ${r.text}`);
      return r.json.id;
    };
    const root = await createOrg('Bench root', null);
    const level1 = [];
    for (let i = 0; i < 10; i++) level1.push(await createOrg(`L1 ${i}`, root));
    const parents = [];
    for (let i = 0; i < 100; i++) parents.push(await createOrg(`L2 ${i}`, level1[i % 10]));

    await untilWritesAreQuick(() => createOrg(`Probe ${Date.now()}`, root));

    // Every checkpoint the projector announces, with the time it reached us.
    const notices = [];
    await db.query(`LISTEN "${readModelsProjectionChannel(schema)}"`);
    db.on('notification', (n) => notices.push({ at: Date.now(), position: Number(n.payload) }));
    const {
      rows: [{ max: before }],
    } = await db.query(`SELECT coalesce(max(position), 0)::text AS max FROM "${schema}".events`);

    let created = 0;
    const req = {
      method: 'POST',
      path: '/api/v1/orgs',
      headers: { 'content-type': 'application/json', ...bearer },
      setupRequest: (r) => (
        (r.body = JSON.stringify({ name: `bench ${tag} ${++created}`, parentId: rand(parents) })),
        r
      ),
    };
    const cpu0 = Object.fromEntries(Object.entries(procs).map(([k, p]) => [k, cpuSeconds(p.pid)]));
    const t0 = Date.now();
    const [row] = await measure({ url, pid: procs.gateway.pid }, [{ req, connections: opts.connections }], opts);
    const seconds = (Date.now() - t0) / 1000; // warm-up included: the CPU below covers the same window
    const cpuPercent = Object.fromEntries(
      Object.entries(procs).map(([k, p]) => [k, Math.round(((cpuSeconds(p.pid) - cpu0[k]) / seconds) * 1000) / 10]),
    );

    // Let the last deliveries land before matching events to announcements.
    const {
      rows: [{ max: after }],
    } = await db.query(`SELECT coalesce(max(position), 0)::text AS max FROM "${schema}".events`);
    for (let i = 0; i < 100 && !(notices.at(-1)?.position >= Number(after)); i++)
      await new Promise((r) => setTimeout(r, 100));
    const { rows: events } = await db.query(
      `SELECT position::text AS position, (extract(epoch FROM occurred_at) * 1000)::float8 AS at FROM "${schema}".events e WHERE e.position > $1 AND e.position <= $2 ORDER BY e.position`,
      [before, after],
    );
    const lags = [];
    let n = 0;
    let unseen = 0;
    for (const e of events) {
      const pos = Number(e.position);
      while (n < notices.length && notices[n].position < pos) n++;
      if (n === notices.length) unseen++;
      else lags.push(notices[n].at - e.at);
    }
    lags.sort((a, b) => a - b);
    const r1 = (x) => (x === null ? null : Math.round(x * 10) / 10);
    const projectionLagMs = {
      events: lags.length,
      notVisibleAfter10s: unseen,
      p50: r1(percentile(lags, 50)),
      p90: r1(percentile(lags, 90)),
      p99: r1(percentile(lags, 99)),
      max: r1(lags.at(-1) ?? null),
    };
    return {
      name: 'create_org_distributed',
      what: `POST /orgs through the gateway (command service + projector + gateway, PostgreSQL + Kafka), ${parents.length} depth-2 parents`,
      ...row,
      projectionLagMs,
      processesCpuPercent: cpuPercent,
      processesReadyRssMb: Object.fromEntries(Object.entries(procs).map(([k, p]) => [k, p.readyRssMb])),
    };
  } finally {
    await db.end().catch(() => undefined);
    await stop({ keep: opts.keep });
  }
}

/**
 * Until the projector's consumer has joined its group, events reach the read models by its 1 s log poll instead of
 * Kafka: calls `write` (a write answered after read-your-writes) until one is answered within 200 ms, 30 s at most.
 */
export async function untilWritesAreQuick(write) {
  for (const t0 = Date.now(); Date.now() - t0 < 30_000;) {
    const started = Date.now();
    await write();
    if (Date.now() - started < 200) return;
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function deleteTopic(brokers, topic) {
  const { Kafka, logLevel } = require('kafkajs');
  const admin = new Kafka({ brokers: brokers.split(','), logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    await admin.deleteTopics({ topics: [topic], timeout: 10_000 });
  } finally {
    await admin.disconnect();
  }
}
