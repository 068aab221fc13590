import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { basename, join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '../../../..');

export const isDistributedRun = (): boolean => process.env.ARBOR_TEST_PROFILE === 'distributed';

/**
 * Where the stacks of this run keep their read models: `mongodb` in the distributed-mongo Jest project
 * (tests/distributed/profile-mongo.setup.js: READ_MODELS_URL is MONGODB_URL), `postgres` otherwise.
 */
export const testReadModels = (): 'postgres' | 'mongodb' =>
  process.env.ARBOR_TEST_READ_MODELS === 'mongodb' ? 'mongodb' : 'postgres';

export interface DistributedStack {
  url: string;
  port: number;
  env: Record<string, string>;
  processes: Record<'commandService' | 'projector' | 'gateway', ChildProcess>;
  /** Starts (again) one process of the stack, e.g. after a kill. */
  restart(name: 'commandService' | 'projector' | 'gateway'): Promise<void>;
  /** Starts another process of the same deployment with extra environment (e.g. a second command service). */
  spawnExtra(name: 'commandService' | 'projector' | 'gateway', extraEnv: Record<string, string>): Promise<ChildProcess>;
  /** Stops (SIGTERM) every process spawnExtra started so far. */
  stopExtras(): Promise<void>;
  /** Stops the projector, replays the log into empty read models, starts the projector again. */
  rebuildReadModels(): Promise<void>;
  close(): Promise<void>;
}

const MAINS = {
  commandService: 'apps/command-service/dist/main.js',
  projector: 'apps/projector/dist/main.js',
  gateway: 'apps/gateway/dist/main.js',
} as const;

/** MONGODB_URL without a database path (the stack's database is named after its schema). */
function mongodbServerUrl(): string {
  const url = process.env.MONGODB_URL;
  if (!url)
    throw new Error('The distributed-mongo project needs MONGODB_URL (scripts/services/ferretdb.sh prints it).');
  return url.replace(/^(mongodb(\+srv)?:\/\/[^/?]+)\/[^?]*/, '$1/');
}

/**
 * Ports handed out by `freePort`: a slice of 10000-19999 per Jest worker (JEST_WORKER_ID, 1 in band), below Linux's
 * ephemeral range (32768-60999), where every `listen(0)` lands. A port found free here is bound seconds later by a
 * child process (the gateway binds after the command service and projector are ready); with the HTTP suites two at
 * a time (scripts/nx-jest.sh), the other worker's apps, receivers and stacks bind meanwhile, and an ephemeral port
 * could be taken in between: the stack would then wait for readiness on the other suite's server. Disjoint slices
 * outside the ephemeral range leave only ports some other program listens on, which the probe below skips.
 */
const PORT_SLICE = 2500;
const portSlice = (): number => 10_000 + ((Number(process.env.JEST_WORKER_ID ?? '1') - 1) % 4) * PORT_SLICE;
let nextPortOffset = Math.floor(Math.random() * PORT_SLICE);

/** A port of this worker's slice that nothing listens on now (see PORT_SLICE). */
export async function freePort(): Promise<number> {
  for (let tries = 0; tries < PORT_SLICE; tries++) {
    const port = portSlice() + (nextPortOffset++ % PORT_SLICE);
    if (await listensFree(port)) return port;
  }
  throw new Error(`no free port in ${portSlice()}-${portSlice() + PORT_SLICE - 1}`);
}

const listensFree = (port: number): Promise<boolean> =>
  new Promise((resolveFree) => {
    const server = createServer();
    server.once('error', () => resolveFree(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolveFree(true)));
  });

/**
 * The distributed profile as the tests see it: a command service, a projector and a gateway as three
 * processes of the built apps, over the PostgreSQL and Kafka of DATABASE_URL / KAFKA_BROKERS. Each data
 * directory gets a PostgreSQL schema and a Kafka topic of its own, so test files never see each other's
 * events, and a restart on the same directory finds the same data. In the distributed-mongo project
 * (testReadModels()) the read models are in MongoDB: READ_MODELS_URL is MONGODB_URL without a database, so
 * each data directory's stack gets the database named as its schema, fresh like the schema.
 */
export async function startDistributedStack(options: {
  dataDir: string;
  adminEmail: string;
  adminPassword: string;
  issuer: string;
  /** IAM_RESOURCES: resource servers besides Arbor that tokens may be issued for (RFC 8707). */
  resources?: string[];
  /** Overrides DATABASE_URL, e.g. to go through a proxy that a fault test can cut. */
  databaseUrl?: string;
  /** More environment for every process of the stack (e.g. IAM_TRUSTED_PROXIES). */
  env?: Record<string, string>;
}): Promise<DistributedStack> {
  const schema = `t_${basename(options.dataDir)
    .toLowerCase()
    .replace(/[^a-z0-9]/g, '')}`.slice(0, 60);
  const [port, commandPort] = await Promise.all([freePort(), freePort()]);
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    DATABASE_URL: options.databaseUrl ?? process.env.DATABASE_URL ?? '',
    KAFKA_BROKERS: process.env.KAFKA_BROKERS ?? '',
    IAM_PG_SCHEMA: schema,
    IAM_KAFKA_TOPIC: `test.${schema}`,
    IAM_DATA_DIR: options.dataDir,
    IAM_ISSUER: options.issuer,
    IAM_RESOURCES: (options.resources ?? []).join(','),
    IAM_BOOTSTRAP_ADMIN_EMAIL: options.adminEmail,
    IAM_BOOTSTRAP_ADMIN_PASSWORD: options.adminPassword,
    IAM_PASSWORD_COST_LOG2: '10',
    IAM_LOG_LEVEL: process.env.ARBOR_STACK_DEBUG ? 'warn' : 'error',
    IAM_VALIDATE_RESPONSES: 'true',
    PORT: String(port),
    HOST: '127.0.0.1',
    COMMAND_SERVICE_PORT: String(commandPort),
    COMMAND_SERVICE_URL: `http://127.0.0.1:${commandPort}`,
    ...(testReadModels() === 'mongodb' ? { READ_MODELS_URL: mongodbServerUrl() } : {}),
    ...options.env,
  };
  const url = `http://127.0.0.1:${port}`;
  const processes = {} as DistributedStack['processes'];
  const extras: ChildProcess[] = [];

  const launch = (
    name: keyof typeof MAINS,
    args: string[] = [],
    extraEnv: Record<string, string> = {},
  ): ChildProcess => {
    const child = spawn(process.execPath, [join(ROOT, MAINS[name]), ...args], {
      cwd: ROOT,
      env: { ...env, ...extraEnv },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr!.on('data', (d) => {
      stderr = (stderr + d).slice(-4000);
      if (process.env.ARBOR_STACK_DEBUG) process.stderr.write(`[${name}] ${d}`);
    });
    child.once('exit', (code, signal) => {
      if (code && code !== 0 && !signal) process.stderr.write(`[${name}] exited with ${code}: ${stderr}\n`);
    });
    return child;
  };
  // 90 s: a gateway is ready once the projector has caught up, which on a busy 2-core CI machine, right after an
  // earlier stack's consumers left the broker's group, took over the 30 s this allowed before.
  const waitFor = async (check: () => Promise<boolean>, what: string) => {
    const deadline = Date.now() + 90_000;
    while (Date.now() < deadline) {
      if (await check().catch(() => false)) return;
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`${what} did not become ready within 90 s`);
  };
  const ready =
    (path: string, base = url) =>
    async () =>
      (await fetch(base + path)).ok;

  const start = async (name: keyof typeof MAINS) => {
    processes[name] = launch(name);
    if (name === 'commandService') await waitFor(ready('/readyz', env.COMMAND_SERVICE_URL), 'the command service');
    if (name === 'gateway') await waitFor(ready('/readyz'), 'the gateway');
  };
  const stop = (child: ChildProcess | undefined, signal: NodeJS.Signals = 'SIGTERM') =>
    new Promise<void>((done) => {
      if (!child || child.exitCode !== null || child.signalCode !== null) return done();
      child.once('exit', () => done());
      child.kill(signal);
    });

  try {
    await start('commandService');
    await start('projector');
    await start('gateway');
  } catch (e) {
    // A stack that did not start is stopped whole: its processes would otherwise outlive the test, and their
    // pipes keep Jest from ever ending (a CI run that hung for 40 minutes after a failed start).
    await Promise.all(Object.values(processes).map((child) => stop(child, 'SIGKILL')));
    throw e;
  }

  return {
    url,
    port,
    env,
    processes,
    restart: start,
    spawnExtra: async (name, extraEnv) => {
      const child = launch(name, [], extraEnv);
      extras.push(child);
      const base =
        name === 'gateway' ? `http://127.0.0.1:${extraEnv.PORT}` : `http://127.0.0.1:${extraEnv.COMMAND_SERVICE_PORT}`;
      if (name !== 'projector') await waitFor(ready('/readyz', base), `an extra ${name}`);
      return child;
    },
    stopExtras: async () => {
      await Promise.all(extras.splice(0).map((c) => stop(c)));
    },
    rebuildReadModels: async () => {
      await stop(processes.projector);
      const rebuild = launch('projector', ['--rebuild']);
      await new Promise<void>((done, fail) =>
        rebuild.once('exit', (code) => (code === 0 ? done() : fail(new Error(`rebuild exited with ${code}`)))),
      );
      await start('projector');
    },
    close: async () => {
      // The gateway first, as an operator would: it answers what is in flight, which needs the others.
      await stop(processes.gateway);
      await Promise.all([stop(processes.projector), stop(processes.commandService), ...extras.map((c) => stop(c))]);
    },
  };
}
