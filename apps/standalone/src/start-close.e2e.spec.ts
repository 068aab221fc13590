import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jsonLogger } from '@arbor/application';
import { startStandalone } from './start-standalone';
import { openFilesUnder } from './test-support/open-files';

/**
 * A closed server gives back what it took, in a process that lives on (programmatic use, and every in-band test
 * run, which starts hundreds of servers in one process): found leaking one scrypt thread per server that had
 * hashed a password (each a Node environment of its own, ~7 GB and 129 event loops across the e2e tier).
 */
const ADMIN = { email: 'admin@close.test', password: 'closing time 4417 lantern' };
const threads = () => readdirSync('/proc/self/task').length;

/** Starts a server on a fresh directory, signs the admin in (a password hash), closes it; returns the directory. */
async function startSignInClose(): Promise<string> {
  const dataDir = mkdtempSync(join(tmpdir(), 'arbor-close-'));
  const running = await startStandalone(
    {
      port: 0,
      host: '127.0.0.1',
      dataDir,
      issuer: 'http://arbor.test',
      bootstrapAdminEmail: ADMIN.email,
      bootstrapAdminPassword: ADMIN.password,
      passwordCostLog2: 10,
      logLevel: 'silent',
      validateResponses: true,
    },
    jsonLogger({}, 'silent'),
  );
  const login = await fetch(`${running.url}/api/v1/auth/tokens`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ grant_type: 'password', username: ADMIN.email, password: ADMIN.password }),
  });
  expect(login.status).toBe(200);
  await running.close();
  return dataDir;
}

describe('a closed embedded server', () => {
  it('leaves no thread and no open file behind', async () => {
    // The first server starts what the process keeps for good (libuv's thread pool): counted from after it.
    await startSignInClose();
    const before = threads();
    const dataDir = await startSignInClose();
    // Threads end shortly after their close resolves (up to 5 s: another suite may load the machine meanwhile).
    for (let tries = 0; tries < 250 && threads() > before; tries++) await new Promise((r) => setTimeout(r, 20));
    expect(threads()).toBe(before);
    expect(openFilesUnder(dataDir)).toEqual([]);
  });
});
