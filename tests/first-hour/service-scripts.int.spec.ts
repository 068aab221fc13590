import { describeIfAvailable } from '@arbor/testing';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { createServer } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { Client } from 'pg';

/**
 * A second PostgreSQL and a second Kafka broker next to the default ones, as a second checkout on the same
 * machine would start them (issue 11 item 20): ports and state directory from ARBOR_PG_PORT,
 * ARBOR_KAFKA_PORT, ARBOR_KAFKA_CONTROLLER_PORT and ARBOR_SERVICES_DIR. The default instances (5432, 9092)
 * are never stopped: a stop is sent only to an instance that answered on the port this test chose.
 */
const ROOT = resolve(__dirname, '../..');
const SCRIPTS = join(ROOT, 'scripts/services');

jest.setTimeout(180_000);

function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer().once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolvePort(port));
    });
  });
}

/** Runs a service script; returns its status, output, and the `NAME=value` it ends with (if any). */
function script(
  name: string,
  env: Record<string, string>,
  ...args: string[]
): { status: number | null; output: string; printed?: string } {
  const run = spawnSync('bash', [join(SCRIPTS, name), ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    encoding: 'utf8',
    timeout: 150_000,
  });
  const printed = /^[A-Z_]+=(.*)$/m.exec(run.stdout)?.[1];
  return { status: run.status, output: `${run.stdout}\n${run.stderr}`, printed };
}

/** A state directory every user may traverse (run by root, the PostgreSQL server runs as `postgres`). */
function stateDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'arbor-services-'));
  chmodSync(dir, 0o755);
  return dir;
}

const pgBinaries = (() => {
  const versions = existsSync('/usr/lib/postgresql') ? readdirSync('/usr/lib/postgresql') : [];
  if (versions.some((v) => existsSync(`/usr/lib/postgresql/${v}/bin/initdb`))) return true;
  return spawnSync('pg_config', ['--bindir'], { encoding: 'utf8' }).status === 0;
})();
const describePg = describeIfAvailable(
  pgBinaries
    ? undefined
    : "PostgreSQL's server binaries are not installed (scripts/services/postgres.sh installs them)",
);

describePg('scripts/services/postgres.sh with ARBOR_PG_PORT and ARBOR_SERVICES_DIR', () => {
  let dir: string;
  let env: Record<string, string>;
  let port: number;
  let started = false;
  beforeAll(async () => {
    dir = stateDir();
    port = await freePort();
    env = { ARBOR_PG_PORT: String(port), ARBOR_SERVICES_DIR: dir };
  });
  afterAll(() => {
    if (started) script('postgres.sh', env, 'stop');
    rmSync(dir, { recursive: true, force: true, maxRetries: 5 });
  });

  it('starts a cluster of its own on that port with its files in that directory, prints its URL, and stops it', async () => {
    const start = script('postgres.sh', env);
    expect(start.printed).toBe(`postgres://arbor:arbor@127.0.0.1:${port}/arbor_test`);
    started = true;
    expect(start.status).toBe(0);

    const client = new Client({ connectionString: start.printed });
    await client.connect();
    try {
      const { rows } = await client.query<{ port: string }>('SHOW port');
      expect(rows[0].port).toBe(String(port));
    } finally {
      await client.end();
    }
    expect(existsSync(join(dir, `postgres-${port}`, 'data', 'PG_VERSION'))).toBe(true);
    expect(script('postgres.sh', env).printed).toBe(start.printed); // again: idempotent while up

    const stop = script('postgres.sh', env, 'stop');
    expect(stop.status).toBe(0);
    started = false;
    const ready = spawnSync('pg_isready', ['-q', '-h', '127.0.0.1', '-p', String(port)]);
    expect(ready.status).not.toBe(0);
  });

  it('refuses a port that is not a number', () => {
    const run = script('postgres.sh', { ARBOR_PG_PORT: '54x', ARBOR_SERVICES_DIR: dir });
    expect(run.status).not.toBe(0);
    expect(run.output).toContain("ARBOR_PG_PORT must be a port number (1 to 65535), not '54x'");
  });
});

const java = spawnSync('java', ['-version']).status === 0;
const defaultLibs = join(
  process.env.ARBOR_SERVICES_DIR || join(homedir(), '.cache/arbor-services'),
  'kafka-libs-3.9.1',
);
const kafkaJars = existsSync(join(defaultLibs, '.complete')) || spawnSync('mvn', ['-v']).status === 0;
const describeKafka = describeIfAvailable(
  !java
    ? 'java is not installed (the broker needs Java 17+)'
    : !kafkaJars
      ? 'neither the Kafka jars nor mvn to fetch them are here (scripts/services/kafka.sh fetches them)'
      : undefined,
);

describeKafka('scripts/services/kafka.sh with ARBOR_KAFKA_PORT and ARBOR_SERVICES_DIR', () => {
  let dir: string;
  let env: Record<string, string>;
  let port: number;
  let started = false;
  beforeAll(async () => {
    dir = stateDir();
    // The jars are shared by every broker of a state directory; lend this one the default's (no second fetch).
    if (existsSync(join(defaultLibs, '.complete'))) symlinkSync(defaultLibs, join(dir, 'kafka-libs-3.9.1'));
    port = await freePort();
    let controllerPort = await freePort();
    while (controllerPort === port) controllerPort = await freePort();
    env = {
      ARBOR_KAFKA_PORT: String(port),
      ARBOR_KAFKA_CONTROLLER_PORT: String(controllerPort),
      ARBOR_SERVICES_DIR: dir,
    };
  });
  afterAll(() => {
    if (started) script('kafka.sh', env, 'stop');
    rmSync(dir, { recursive: true, force: true, maxRetries: 5 });
  });

  it('starts a broker of its own on that port with its files in that directory, prints its address, and stops it', async () => {
    const start = script('kafka.sh', env);
    expect(start.printed).toBe(`127.0.0.1:${port}`);
    started = true;
    expect(start.status).toBe(0);

    const admin = new Kafka({
      clientId: 'arbor-scripts-test',
      brokers: [start.printed!],
      logLevel: logLevel.NOTHING,
    }).admin();
    await admin.connect();
    try {
      const cluster = await admin.describeCluster();
      expect(cluster.brokers.map((b) => b.port)).toEqual([port]);
    } finally {
      await admin.disconnect();
    }
    expect(existsSync(join(dir, `kafka-${port}`, 'data', 'meta.properties'))).toBe(true);

    expect(script('kafka.sh', env, 'stop').status).toBe(0);
    started = false;
    expect(() => execFileSync('bash', ['-c', `exec 3<>/dev/tcp/127.0.0.1/${port}`], { stdio: 'ignore' })).toThrow();
  });
});
