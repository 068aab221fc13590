import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { openPostgresTokenStore } from '@arbor/postgres';
import { freePort } from '../../apps/standalone/src/test-support/distributed-stack';

/**
 * Operations of the distributed profile's processes, run as built: start-up order, settings, housekeeping.
 */
const ROOT = resolve(__dirname, '../..');
const MAINS = {
  commandService: join(ROOT, 'apps/command-service/dist/main.js'),
  gateway: join(ROOT, 'apps/gateway/dist/main.js'),
  projector: join(ROOT, 'apps/projector/dist/main.js'),
};

beforeAll(() => {
  execFileSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-b', 'tsconfig.build.json'], {
    cwd: ROOT,
  });
}, 120_000);

/** The environment of one fresh deployment: its own PostgreSQL schema, Kafka topic and data directory. */
function deployment(): Record<string, string> {
  const dataDir = mkdtempSync(join(tmpdir(), 'arbor-ops-'));
  const schema = `t_${basename(dataDir)
    .toLowerCase()
    .replace(/[^a-z0-9]/g, '')}`;
  return {
    PATH: process.env.PATH ?? '',
    DATABASE_URL: process.env.DATABASE_URL ?? '',
    KAFKA_BROKERS: process.env.KAFKA_BROKERS ?? '',
    IAM_PG_SCHEMA: schema,
    IAM_KAFKA_TOPIC: `test.${schema}`,
    IAM_DATA_DIR: dataDir,
    IAM_ISSUER: 'http://arbor.test',
    IAM_PASSWORD_COST_LOG2: '10',
  };
}

interface Run {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exit: Promise<number | null>;
}

function run(main: string, env: Record<string, string>): Run {
  const child = spawn(process.execPath, [main], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (err += d));
  const exit = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  return { child, stdout: () => out, stderr: () => err, exit };
}

/** Waits until `text` shows up in what `read` returns; fails (and kills the child) after `withinMs`. */
async function waitForOutput(
  started: Run,
  read: () => string,
  text: RegExp,
  withinMs = 30_000,
): Promise<RegExpExecArray> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    const match = text.exec(read());
    if (match) return match;
    if (started.child.exitCode !== null || Date.now() > deadline) {
      started.child.kill('SIGKILL');
      throw new Error(`no ${text} in output; stdout: ${started.stdout()} stderr: ${started.stderr()}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function stop(started: Run): Promise<void> {
  if (started.child.exitCode === null) started.child.kill('SIGTERM');
  await started.exit;
}

describe('the command service', () => {
  it('binds its port before it creates the admin: on EADDRINUSE nothing is printed and the next start prints the password', async () => {
    const env = deployment();
    const taken: Server = createServer();
    await new Promise<void>((done) => taken.listen(0, '127.0.0.1', done));
    try {
      const port = (taken.address() as { port: number }).port;
      const refused = run(MAINS.commandService, { ...env, COMMAND_SERVICE_PORT: String(port) });
      expect(await refused.exit).toBe(1);
      expect(refused.stderr()).toContain('EADDRINUSE');
      expect(refused.stdout()).not.toContain('Platform admin created');
    } finally {
      taken.close();
    }
    const next = run(MAINS.commandService, { ...env, COMMAND_SERVICE_PORT: String(await freePort()) });
    try {
      await waitForOutput(next, next.stdout, /Platform admin created: admin@localhost \/ password: \S+/);
    } finally {
      await stop(next);
    }
  }, 90_000);
});

describe('housekeeping of the distributed profile', () => {
  it('the command service drops expired refresh tokens and revocations, as the embedded process does', async () => {
    const env = deployment();
    const tokens = await openPostgresTokenStore(env.DATABASE_URL, { schema: env.IAM_PG_SCHEMA });
    const hour = 3600_000;
    const at = (offsetMs: number) => new Date(Date.now() + offsetMs).toISOString();
    try {
      await tokens.saveRefreshToken({
        tokenHash: 'expired-hash',
        familyId: 'fam-old',
        subject: 'usr_1',
        scope: 'orgs:read',
        issuedAt: at(-3 * hour),
        expiresAt: at(-hour),
      });
      await tokens.saveRefreshToken({
        tokenHash: 'live-hash',
        familyId: 'fam-new',
        subject: 'usr_1',
        scope: 'orgs:read',
        issuedAt: at(0),
        expiresAt: at(hour),
      });
      await tokens.revokeAccessToken('jti-expired', at(-hour));
      await tokens.revokeAccessToken('jti-live', at(hour));
      const service = run(MAINS.commandService, {
        ...env,
        COMMAND_SERVICE_PORT: String(await freePort()),
        IAM_BOOTSTRAP_ADMIN_PASSWORD: 'not printed 123',
      });
      try {
        await waitForOutput(service, service.stdout, /command service listening/);
        for (let i = 0; i < 100 && (await tokens.findRefreshToken('expired-hash')) !== undefined; i++)
          await new Promise((r) => setTimeout(r, 100));
        expect(await tokens.findRefreshToken('expired-hash')).toBeUndefined();
        expect(await tokens.isAccessTokenRevoked('jti-expired')).toBe(false);
        expect(await tokens.findRefreshToken('live-hash')).toBeDefined();
        expect(await tokens.isAccessTokenRevoked('jti-live')).toBe(true);
      } finally {
        await stop(service);
      }
    } finally {
      await tokens.close();
    }
  }, 90_000);
});

describe('settings of the distributed processes', () => {
  it.each([
    ['gateway', { PORT: 'eighty' }, 'PORT must be an integer from 0 to 65535, not "eighty"'],
    ['gateway', { HOST: 'not a host' }, 'HOST must be an IP address or a host name, not "not a host"'],
    [
      'gateway',
      { IAM_ISSUER: 'arbor.test' },
      'IAM_ISSUER must be an http(s) URL without query or fragment, not "arbor.test"',
    ],
    ['gateway', { IAM_DATA_DIR: __filename }, `IAM_DATA_DIR must be a directory, not the file "${__filename}"`],
    ['projector', { IAM_LOG_LEVEL: 'verbose' }, 'IAM_LOG_LEVEL must be info, warn, error or silent, not "verbose"'],
    [
      'projector',
      { IAM_LOG_LEVEL: 'debug', DATABASE_URL: '' },
      'IAM_LOG_LEVEL must be info, warn, error or silent, not "debug"',
    ],
  ] as const)(
    'the %s refuses to start on %j with a precise error',
    async (name, bad, message) => {
      const started = run(MAINS[name], { ...deployment(), PORT: String(0), ...bad });
      const code = await Promise.race([
        started.exit,
        new Promise<'running'>((r) => setTimeout(() => r('running'), 20_000)),
      ]);
      if (code === 'running') await stop(started);
      expect(code).toBe(1);
      expect(started.stderr()).toContain(message);
    },
    60_000,
  );
});
