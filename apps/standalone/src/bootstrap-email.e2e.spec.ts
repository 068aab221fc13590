import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jsonLogger } from '@arbor/application';
import { startStandalone } from './start-standalone';
import { openFilesUnder } from './test-support/open-files';

/** The bootstrap admin's email and the API's email check agree (contract section 2). */
const start = (dataDir: string, bootstrapAdminEmail?: string, bootstrapAdminPassword = 'bootstrap password') =>
  startStandalone(
    {
      port: 0,
      host: '127.0.0.1',
      dataDir,
      issuer: 'http://arbor.test',
      bootstrapAdminEmail,
      bootstrapAdminPassword,
      passwordCostLog2: 10,
      logLevel: 'silent',
      validateResponses: true,
    },
    jsonLogger({}, 'silent'),
  );

describe('the bootstrap admin email', () => {
  it('refuses to create an admin whose email the API would refuse, and gives the data directory back', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'arbor-bootstrap-'));
    await expect(start(dataDir, 'root')).rejects.toThrow(/IAM_BOOTSTRAP_ADMIN_EMAIL/);
    // Everything the start had opened by then is closed: the stores' connections, the checkpointer's thread.
    expect(openFilesUnder(dataDir)).toEqual([]);
    // The failed start released the directory's lock: the next start takes it.
    const running = await start(dataDir, 'root@localhost');
    await running.close();
  });

  it('refuses a bootstrap password the API would refuse (8 to 1024 characters), creating no admin', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'arbor-bootstrap-'));
    for (const password of ['short', '1234567', 'x'.repeat(1025)])
      await expect(start(dataDir, undefined, password)).rejects.toThrow(
        'IAM_BOOTSTRAP_ADMIN_PASSWORD must be 8 to 1024 characters',
      );
    expect(openFilesUnder(dataDir)).toEqual([]);
    const running = await start(dataDir, undefined, '12345678');
    await running.close();
  });

  it('by default is admin@localhost, which the API finds by its own email filter', async () => {
    const running = await start(mkdtempSync(join(tmpdir(), 'arbor-bootstrap-')));
    try {
      const login = await fetch(`${running.url}/api/v1/auth/tokens`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ grant_type: 'password', username: 'admin@localhost', password: 'bootstrap password' }),
      });
      const token = ((await login.json()) as { access_token: string }).access_token;
      const org = await fetch(`${running.url}/api/v1/orgs`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'Ops' }),
      });
      const orgId = ((await org.json()) as { id: string }).id;
      // Adding the admin to an organization by their email: refused as "not an email" (400) before; now the
      // email is an email, and names an account the caller sees (409 naming it: added by id if meant).
      const added = await fetch(`${running.url}/api/v1/orgs/${orgId}/users`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ email: 'admin@localhost', name: 'Admin', roles: ['owner'] }),
      });
      expect(added.status).toBe(409);
      expect(((await added.json()) as { code: string }).code).toBe('IAM_ERR_EMAIL_TAKEN');
    } finally {
      await running.close();
    }
  });
});
