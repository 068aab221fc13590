import { mkdtempSync, readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import type { Logger } from '@arbor/application';
import { distributedSettingsFromEnv } from '@arbor/runtime';
import { startCommandService, type RunningCommandService } from '../../apps/command-service/src/start-command-service';
import { testReadModels } from '../../apps/standalone/src/test-support/distributed-stack';
import { startGateway, type RunningGateway } from '../../apps/gateway/src/start-gateway';
import { startProjector, type RunningProjector } from '../../apps/projector/src/start-projector';

/**
 * The distributed profile composed in one test process from the start* functions the processes' main.ts
 * call (the other distributed suites spawn the built binaries): each takes the validated settings, starts,
 * serves, and its handle's close() releases what it opened (a closed gateway refuses connections). In the
 * distributed-mongo project the read models are in MongoDB (READ_MODELS_URL): the projector's close frees its lease.
 */
const quiet: Logger = { info: () => undefined, warn: () => undefined, error: () => undefined };
const ADMIN = { email: 'admin@start-functions.test', password: 'start functions 2291 lantern' };

jest.setTimeout(90_000);

/** The environment of a fresh deployment: its own data directory, PostgreSQL schema and Kafka topic. */
function freshEnv() {
  const dataDir = mkdtempSync(join(tmpdir(), 'arbor-start-fns-'));
  const schema = `t_${basename(dataDir)
    .toLowerCase()
    .replace(/[^a-z0-9]/g, '')}`.slice(0, 60);
  return {
    DATABASE_URL: process.env.DATABASE_URL,
    KAFKA_BROKERS: process.env.KAFKA_BROKERS,
    IAM_PG_SCHEMA: schema,
    IAM_KAFKA_TOPIC: `test.${schema}`,
    IAM_DATA_DIR: dataDir,
    IAM_ISSUER: 'http://arbor.test',
    IAM_BOOTSTRAP_ADMIN_EMAIL: ADMIN.email,
    IAM_BOOTSTRAP_ADMIN_PASSWORD: ADMIN.password,
    IAM_PASSWORD_COST_LOG2: '10',
    PORT: '0',
    HOST: '127.0.0.1',
    COMMAND_SERVICE_PORT: '0',
    READ_MODELS_URL: testReadModels() === 'mongodb' ? process.env.MONGODB_URL : undefined,
  };
}

/** The ports of the services the stack connects to: PostgreSQL, the Kafka brokers, MongoDB when used. */
const servicePorts = (): Set<number> =>
  new Set(
    [
      new URL(process.env.DATABASE_URL!).port || '5432',
      ...process.env.KAFKA_BROKERS!.split(',').map((broker) => broker.split(':').at(-1)!),
      ...(testReadModels() === 'mongodb' ? [new URL(process.env.MONGODB_URL!).port || '27017'] : []),
    ].map(Number),
  );

/**
 * This process's established TCP connections to `ports` (Linux: the socket inodes of /proc/self/fd matched
 * against /proc/net/tcp and tcp6), as `remote-port:inode` strings.
 */
function connectionsTo(ports: Set<number>): string[] {
  const ours = new Set(
    readdirSync('/proc/self/fd').flatMap((fd) => {
      try {
        return [/^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/self/fd/${fd}`))?.[1]].filter(Boolean) as string[];
      } catch {
        return []; // closed meanwhile
      }
    }),
  );
  return ['/proc/net/tcp', '/proc/net/tcp6'].flatMap((table) =>
    readFileSync(table, 'utf8')
      .trim()
      .split('\n')
      .slice(1)
      .map((line) => line.trim().split(/\s+/))
      .filter(
        ([, , remote, state, , , , , , inode]) =>
          state === '01' && ours.has(inode) && ports.has(parseInt(remote.split(':')[1], 16)),
      )
      .map(([, , remote, , , , , , , inode]) => `${parseInt(remote.split(':')[1], 16)}:${inode}`),
  );
}

/**
 * The connections to the services this process holds and did not hold `before`, once those closing have closed
 * (up to 5 s). It first waits 2 s: a leak may still be connecting when the start's error arrives (an opening the
 * start stopped waiting for), and pg's idle connections outlive that by far (10 s).
 */
async function leftOpenSince(before: string[]): Promise<string[]> {
  const known = new Set(before);
  let added: string[] = [];
  await new Promise((r) => setTimeout(r, 2000));
  for (let tries = 0; tries < 50; tries++) {
    added = connectionsTo(servicePorts()).filter((c) => !known.has(c));
    if (added.length === 0) return added;
    await new Promise((r) => setTimeout(r, 100));
  }
  return added;
}

describe('startCommandService, startProjector and startGateway', () => {
  let commandService: RunningCommandService | undefined;
  let projector: RunningProjector | undefined;
  let gateway: RunningGateway | undefined;

  afterAll(async () => {
    await Promise.allSettled([gateway?.close(), projector?.close(), commandService?.close()]);
  });

  it('start from the settings, serve a write end to end, and close', async () => {
    const env = freshEnv();
    commandService = await startCommandService(distributedSettingsFromEnv(env), quiet);
    const settings = distributedSettingsFromEnv({ ...env, COMMAND_SERVICE_URL: commandService.url });
    projector = await startProjector({ profile: 'distributed', logLevel: 'silent', settings }, quiet);
    gateway = await startGateway(settings, quiet);

    const login = await fetch(`${gateway.url}/api/v1/auth/tokens`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ grant_type: 'password', username: ADMIN.email, password: ADMIN.password }),
    });
    expect(login.status).toBe(200);
    const { access_token: token } = (await login.json()) as { access_token: string };
    const created = await fetch(`${gateway.url}/api/v1/orgs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ name: 'Started In Process' }),
    });
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as { id: string };
    // Read-your-writes: the gateway answered the write once the projector had it in the read models.
    const read = await fetch(`${gateway.url}/api/v1/orgs/${id}`, { headers: { authorization: `Bearer ${token}` } });
    expect([read.status, ((await read.json()) as { name: string }).name]).toEqual([200, 'Started In Process']);
    expect(projector.projector.position).toBeGreaterThan(0);

    const closing = gateway.close();
    expect(gateway.close()).toBe(closing);
    await closing;
    await projector.close();
    // Its lease freed at once (MongoDB read models): a second projector starts without waiting out the expiry.
    const started = Date.now();
    const next = await startProjector({ profile: 'distributed', logLevel: 'silent', settings }, quiet);
    expect(Date.now() - started).toBeLessThan(4000);
    await next.close();
    await commandService.close();
    await expect(fetch(`${gateway.url}/healthz`)).rejects.toThrow();
    await expect(fetch(`${commandService.url}/healthz`)).rejects.toThrow();
  });
});

describe('a distributed start that fails halfway', () => {
  // Found closing nothing: the command service left its PostgreSQL pools and Kafka producer open, the gateway its
  // pools, key rotation and checkpoint timers, in a process that lives on (tests, programmatic use).
  it('closes every connection the command service had opened (a refused bootstrap admin email)', async () => {
    const before = connectionsTo(servicePorts());
    const settings = { ...distributedSettingsFromEnv(freshEnv()), bootstrapAdminEmail: 'root' };
    await expect(startCommandService(settings, quiet)).rejects.toThrow(/IAM_BOOTSTRAP_ADMIN_EMAIL/);
    expect(await leftOpenSince(before)).toEqual([]);
  });

  it('closes every connection the gateway had opened (one store refused while the others were opening)', async () => {
    const before = connectionsTo(servicePorts());
    // A READ_MODELS_URL the driver refuses at once (an unknown auth mechanism), while the PostgreSQL stores
    // are still opening: Promise.all threw before they had opened, and nothing closed them.
    const env = { ...freshEnv(), COMMAND_SERVICE_URL: 'http://127.0.0.1:9' };
    const settings = distributedSettingsFromEnv({
      ...env,
      READ_MODELS_URL: `mongodb://127.0.0.1:9/${env.IAM_PG_SCHEMA}?authMechanism=NOT-ONE`,
    });
    await expect(startGateway(settings, quiet)).rejects.toThrow(/authMechanism|auth mechanism/i);
    expect(await leftOpenSince(before)).toEqual([]);
  });

  it('closes every connection the gateway had opened (its port is taken)', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    try {
      const before = connectionsTo(servicePorts());
      const port = String((taken.address() as AddressInfo).port);
      const settings = distributedSettingsFromEnv({
        ...freshEnv(),
        PORT: port,
        COMMAND_SERVICE_URL: 'http://127.0.0.1:9',
      });
      await expect(startGateway(settings, quiet)).rejects.toThrow(/EADDRINUSE/);
      expect(await leftOpenSince(before)).toEqual([]);
    } finally {
      taken.close();
    }
  });
});
