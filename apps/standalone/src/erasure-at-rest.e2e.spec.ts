import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { PASSWORD, unique } from './test-support/access-fixtures';
import { createOrg, startTestApp, type TestApp } from './test-support/test-app';

/**
 * Erasure at rest (embedded only: it reads the files): once a user is erased, no file under IAM_DATA_DIR holds their
 * email or name in clear (UTF-8, as given or case-folded), the read models and their WAL included, while the server
 * runs and after its read models are rebuilt.
 */
let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(() => app.close());

/** Every regular file under `dir`: what can hold bytes (not the writer's socket, with IAM_WORKERS above 1). */
function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    const stat = statSync(path);
    return stat.isDirectory() ? filesUnder(path) : stat.isFile() ? [path] : [];
  });
}

const holding = (texts: string[]): string[] =>
  filesUnder(app.dataDir).filter((file) => {
    const bytes = readFileSync(file);
    return texts.some((text) => bytes.includes(text));
  });

it('leaves no copy of the email or name in any file under the data directory', async () => {
  const org = await createOrg(app, unique('At rest'));
  const name = unique('Philippa Wexcombe');
  const email = `${unique('pw')}@erasure-at-rest.example`.toLowerCase();
  const added = await app.call('POST', `/api/v1/orgs/${org.id}/users`, {
    body: { email, name, password: PASSWORD, roles: ['member'] },
    headers: { 'Idempotency-Key': unique('key') },
  });
  expect(added.status).toBe(201);
  const texts = [email, name, name.toLowerCase()];
  // The read models hold them in clear until the erasure (derived, searchable by design).
  expect(holding(texts).length).toBeGreaterThan(0);

  expect((await app.call('DELETE', `/api/v1/users/${added.body.userId}`)).status).toBe(204);
  expect(holding(texts)).toEqual([]);
  await app.rebuildReadModels();
  expect(holding(texts)).toEqual([]);
});

it('leaves none either where erasures free whole pages of the read models, before and after a rebuild', async () => {
  const org = await createOrg(app, unique('Freed pages'));
  // Long emails and names fill the users table's and its email index's pages quickly: erasing most of them in a row
  // empties whole pages, which SQLite puts on its freelist (with secure_delete FAST, as they were).
  const addUsers = async (count: number) => {
    const users: Array<{ id: string; texts: string[] }> = [];
    for (let i = 0; i < count; i++) {
      const email = `${unique('fp')}.${'l'.repeat(40)}@${'d'.repeat(60)}.${'o'.repeat(60)}.example`.toLowerCase();
      const name = `${unique('Freda Pagewright')} ${'n'.repeat(150)}`;
      const res = await app.call('POST', `/api/v1/orgs/${org.id}/users`, {
        body: { email, name, password: PASSWORD, roles: ['member'] },
      });
      expect(res.status).toBe(201);
      users.push({ id: res.body.userId, texts: [email, name, name.toLowerCase()] });
    }
    return users;
  };
  const erase = async (users: Array<{ id: string; texts: string[] }>) => {
    for (const user of users) expect((await app.call('DELETE', `/api/v1/users/${user.id}`)).status).toBe(204);
    return users.flatMap((u) => u.texts);
  };
  const first = await addUsers(60);
  const erased = await erase(first.slice(0, 50));
  expect(holding(erased)).toEqual([]);
  await app.rebuildReadModels();
  const second = await addUsers(40);
  const alsoErased = await erase([...first.slice(50), ...second.slice(0, 35)]);
  expect(holding([...erased, ...alsoErased])).toEqual([]);
});
