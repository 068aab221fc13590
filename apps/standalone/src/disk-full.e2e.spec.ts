import type { Database } from 'better-sqlite3';
import type { RunningStandalone } from './start-standalone';
import { ADMIN_EMAIL, ADMIN_PASSWORD, createOrg, startTestApp, type TestApp } from './test-support/test-app';

/**
 * A full disk, embedded profile. SQLite's `max_page_count`, set on the app's own connection, makes every
 * write that needs a new page fail with SQLITE_FULL exactly as a full disk does; raising it again is the
 * operator freeing space. The test reaches the adapters' private connections through the running app: a
 * test-only reach, nothing an operator can set.
 */
const UNLIMITED = 1_073_741_823;

const connectionOf = (running: RunningStandalone, which: 'events' | 'readModels' | 'tokens' | 'throttle'): Database => {
  const deps = (running.projector as unknown as { deps: { store: { writer: Database }; readModels: { db: Database } } })
    .deps;
  if (which === 'tokens') return (running.stores.tokenStore as unknown as { db: Database }).db;
  if (which === 'throttle') return (running.stores.throttleStore as unknown as { db: Database }).db;
  return which === 'events' ? deps.store.writer : deps.readModels.db;
};
const fill = (db: Database) => db.pragma(`max_page_count = ${db.pragma('page_count', { simple: true })}`);
const free = (db: Database) => db.pragma(`max_page_count = ${UNLIMITED}`);

let app: TestApp;
beforeEach(async () => {
  app = await startTestApp();
});
afterEach(() => app.close());

/** Creates organizations until one is refused; returns that response (and how many went through). */
async function writeUntilRefused(parentId: string) {
  for (let i = 0; i < 2000; i++) {
    const res = await app.call('POST', '/api/v1/orgs', { body: { name: `Filler ${i} ${'x'.repeat(150)}`, parentId } });
    if (res.status !== 201) return { res, created: i };
  }
  throw new Error('the disk never filled');
}

describe('a full disk (embedded profile)', () => {
  it('a write the event log cannot take answers 503 with Retry-After, readiness says not ready, and both recover once space returns', async () => {
    const root = await createOrg(app, 'Disk full');
    const events = connectionOf(app.running as RunningStandalone, 'events');
    fill(events);
    try {
      const { res } = await writeUntilRefused(root.id);
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toMatch(/^\d+$/);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      expect(res.body.code).toBe('IAM_ERR_UNAVAILABLE');
      // Readiness says so: a load balancer stops sending writes here.
      const ready = await app.call('GET', '/readyz', { token: null });
      expect(ready.status).toBe(503);
      expect(ready.body.checks.eventStore).toBe('failing (SQLITE_FULL)');
    } finally {
      free(events);
    }
    // Space is back: readiness recovers by itself, before any write is sent.
    expect((await app.call('GET', '/readyz', { token: null })).status).toBe(200);
    expect(
      (await app.call('POST', '/api/v1/orgs', { body: { name: 'After space returns', parentId: root.id } })).status,
    ).toBe(201);
  });

  it('the password grant, when the token store cannot take its refresh token, answers 503 temporarily_unavailable (RFC 6749)', async () => {
    const running = app.running as RunningStandalone;
    const dbs = [connectionOf(running, 'tokens'), connectionOf(running, 'throttle')];
    dbs.forEach(fill);
    try {
      let res;
      for (let i = 0; i < 500; i++) {
        res = await app.call('POST', '/api/v1/auth/tokens', {
          token: null,
          body: { grant_type: 'password', username: ADMIN_EMAIL, password: ADMIN_PASSWORD },
        });
        if (res.status !== 200) break;
      }
      expect(res!.status).toBe(503);
      expect(res!.headers.get('retry-after')).toMatch(/^\d+$/);
      expect(res!.headers.get('content-type')).toMatch(/^application\/json/);
      expect(res!.body).toEqual({ error: 'temporarily_unavailable', error_description: expect.any(String) });
    } finally {
      dbs.forEach(free);
    }
    expect(
      (
        await app.call('POST', '/api/v1/auth/tokens', {
          token: null,
          body: { grant_type: 'password', username: ADMIN_EMAIL, password: ADMIN_PASSWORD },
        })
      ).status,
    ).toBe(200);
  });

  it('projections that failed for want of space catch up on their own once it returns: no new write needed', async () => {
    const root = await createOrg(app, 'Projection disk full');
    const readModels = connectionOf(app.running as RunningStandalone, 'readModels');
    fill(readModels);
    let refused;
    try {
      // Stored in the log, but the read models cannot take it: the write answers 503 (stored, not visible).
      refused = await writeUntilRefused(root.id);
      expect(refused.res.status).toBe(503);
      const ready = await app.call('GET', '/readyz', { token: null });
      expect(ready.status).toBe(503);
      expect(ready.body.checks.projections).toBe('failing');
    } finally {
      free(readModels);
    }
    // Nothing is written from here on: the projector must retry by itself.
    let ready = await app.call('GET', '/readyz', { token: null });
    for (let i = 0; i < 150 && ready.status !== 200; i++) {
      await new Promise((r) => setTimeout(r, 100));
      ready = await app.call('GET', '/readyz', { token: null });
    }
    expect(ready.status).toBe(200);
    const children = await app.call('GET', `/api/v1/orgs/${root.id}/children?limit=200`);
    expect(children.body.items).toHaveLength(refused.created + 1);
  });
});
