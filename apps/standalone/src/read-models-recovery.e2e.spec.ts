import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, existsSync, fstatSync, openSync, readdirSync, writeSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Logger } from '@arbor/application';
import { startStandalone } from './start-standalone';
import { queryEventLog, tamperEventLog } from './test-support/tamper-event-log';
import { ADMIN_EMAIL, ADMIN_PASSWORD, createOrg, startTestApp } from './test-support/test-app';

/**
 * `read-models.sqlite` is derived from the log: a corrupt one must not stop the embedded start or the
 * projector's --rebuild. The file (with -wal/-shm) is set aside as `read-models.sqlite.corrupt-<time>`,
 * a warning says why, and the read models are rebuilt from the log.
 */
const ROOT = resolve(__dirname, '../../..');

beforeAll(() => {
  execFileSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-b', 'tsconfig.build.json'], {
    cwd: ROOT,
  });
}, 120_000);

type Damage = (file: string) => void;
/** Garbage over the 100-byte header: SQLite answers SQLITE_NOTADB. */
const overwriteHeader: Damage = (file) => overwrite(file, 0, 100);
/** A sound header over garbage pages (the schema on page 1 included): SQLITE_CORRUPT. */
const overwritePages: Damage = (file) => overwrite(file, 100, fstatSize(file) - 100);

function fstatSize(file: string): number {
  const fd = openSync(file, 'r');
  try {
    return fstatSync(fd).size;
  } finally {
    closeSync(fd);
  }
}

function overwrite(file: string, offset: number, length: number): void {
  const fd = openSync(file, 'r+');
  try {
    writeSync(fd, Buffer.alloc(length, 0xa5), 0, length, offset);
  } finally {
    closeSync(fd);
  }
}

/** A data directory whose log holds one organization and whose read-models file is then damaged. */
async function damagedDataDir(damage: Damage): Promise<{ dataDir: string; orgId: string }> {
  const app = await startTestApp();
  const org = await createOrg(app, 'Survives corruption');
  await app.close();
  const file = join(app.dataDir, 'read-models.sqlite');
  expect(existsSync(file + '-wal')).toBe(false);
  damage(file);
  return { dataDir: app.dataDir, orgId: org.id };
}

function capturingLogger(): { log: Logger; warnings: { message: string; fields?: Record<string, unknown> }[] } {
  const warnings: { message: string; fields?: Record<string, unknown> }[] = [];
  return {
    log: {
      info: () => undefined,
      error: () => undefined,
      warn: (message, fields) => void warnings.push({ message, fields }),
    },
    warnings,
  };
}

async function adminCanRead(url: string, orgId: string): Promise<number> {
  const login = await fetch(`${url}/api/v1/auth/tokens`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'password', username: ADMIN_EMAIL, password: ADMIN_PASSWORD }).toString(),
  });
  const { access_token } = (await login.json()) as { access_token: string };
  return (await fetch(`${url}/api/v1/orgs/${orgId}`, { headers: { authorization: `Bearer ${access_token}` } })).status;
}

const configOver = (dataDir: string) =>
  ({
    port: 0,
    host: '127.0.0.1',
    dataDir,
    issuer: 'http://arbor.test',
    bootstrapAdminEmail: ADMIN_EMAIL,
    bootstrapAdminPassword: ADMIN_PASSWORD,
    passwordCostLog2: 10,
    logLevel: 'silent',
    validateResponses: true,
  }) as const;

const setAside = (dataDir: string) =>
  readdirSync(dataDir).filter((name) => /^read-models\.sqlite\.corrupt-\d{8}T\d{9}Z$/.test(name));

describe('a corrupt read-models.sqlite', () => {
  it.each([
    ["a header that is not SQLite's", overwriteHeader, 'SQLITE_NOTADB'],
    ['damaged pages', overwritePages, 'SQLITE_CORRUPT'],
  ])('with %s is set aside at start, logged, and rebuilt from the log', async (_what, damage, code) => {
    const { dataDir, orgId } = await damagedDataDir(damage);
    const { log, warnings } = capturingLogger();
    const running = await startStandalone(configOver(dataDir), log);
    try {
      expect(await adminCanRead(running.url, orgId)).toBe(200);
      expect(setAside(dataDir)).toHaveLength(1);
      const warning = warnings.find((w) => /read models corrupt/.test(w.message));
      expect(warning?.fields).toMatchObject({
        file: join(dataDir, 'read-models.sqlite'),
        setAsideAs: join(dataDir, setAside(dataDir)[0]),
      });
      expect(String(warning?.fields?.reason)).toContain(code);
    } finally {
      await running.close();
    }
  });

  it('does not stop the projector --rebuild: it is set aside, logged, and the log replayed', async () => {
    const { dataDir, orgId } = await damagedDataDir(overwriteHeader);
    const rebuild = spawnSync(process.execPath, [join(ROOT, 'apps/projector/dist/main.js'), '--rebuild'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', IAM_DATA_DIR: dataDir },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(rebuild.status).toBe(0);
    const warnings = rebuild.stderr
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line));
    expect(
      warnings.find(
        (w) => w.level === 'warn' && /^read models corrupt/.test(w.message) && /SQLITE_NOTADB/.test(JSON.stringify(w)),
      ),
    ).toBeDefined();
    expect(rebuild.stdout).toContain('read models rebuilt');
    expect(setAside(dataDir)).toHaveLength(1);
    const running = await startStandalone(configOver(dataDir), capturingLogger().log);
    try {
      expect(await adminCanRead(running.url, orgId)).toBe(200);
    } finally {
      await running.close();
    }
  });
});

describe('a projector --rebuild whose replay fails partway', () => {
  // Found reporting success: the projector logs a failed batch and retries instead of throwing, so the rebuild
  // logged "read models rebuilt" with the events before the failure and exited 0.
  it('exits 1 and says where it stopped, not "read models rebuilt"', async () => {
    const app = await startTestApp();
    await createOrg(app, 'Before the unreadable event');
    await createOrg(app, 'Unreadable');
    await app.close();
    const [created] = await queryEventLog(app, `SELECT max(position) AS position FROM events`);
    await tamperEventLog(app, `UPDATE events SET data = '{not json' WHERE position = ${Number(created.position)}`);
    const rebuild = spawnSync(process.execPath, [join(ROOT, 'apps/projector/dist/main.js'), '--rebuild'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', IAM_DATA_DIR: app.dataDir },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(rebuild.stdout + rebuild.stderr).not.toContain('read models rebuilt');
    expect(rebuild.stderr).toContain('The replay stopped at position');
    expect(rebuild.status).toBe(1);
  });
});
