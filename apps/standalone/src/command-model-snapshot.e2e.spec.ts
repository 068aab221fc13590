import { copyFileSync, cpSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from '@arbor/application';
import { startStandalone } from './start-standalone';
import { ADMIN_EMAIL, createOrg, startTestApp, type TestApp } from './test-support/test-app';

// Embedded only: it looks at the files in the data directory.
const SNAPSHOT = 'command-model.snapshot';

async function seed(app: TestApp) {
  const root = await createOrg(app, 'Snap Root');
  const child = await createOrg(app, 'Snap Child', root.id);
  const user = await app.call('POST', `/api/v1/orgs/${child.id}/users`, {
    body: { email: 'snap.user@example.test', name: 'Snap User', roles: ['member'] },
  });
  expect(user.status).toBe(201);
  expect(user.body.userId).toMatch(/^usr_/);
  return { root, child, userId: user.body.userId as string };
}

/** The rules that depend on the command model, checked through the API after a restart. */
async function expectModelRules(app: TestApp, ids: { root: { id: string }; child: { id: string }; userId: string }) {
  expect((await app.call('POST', '/api/v1/orgs', { body: { name: 'snap child', parentId: ids.root.id } })).status).toBe(
    409,
  );
  // The email index came back: the same address (any case) names the same user (409 naming them).
  const again = await app.call('POST', `/api/v1/orgs/${ids.root.id}/users`, {
    body: { email: 'SNAP.USER@example.test', name: 'Other', roles: ['member'] },
  });
  expect(again.status).toBe(409);
  expect(again.body).toMatchObject({ code: 'IAM_ERR_EMAIL_TAKEN', detail: expect.stringContaining(ids.userId) });
  expect(
    (await app.call('POST', `/api/v1/orgs/${ids.child.id}/users`, { body: { userId: ids.userId, roles: ['member'] } }))
      .status,
  ).toBe(409);
  const cycle = await app.call('PUT', `/api/v1/orgs/${ids.root.id}`, {
    body: { name: 'Snap Root', parentId: ids.child.id },
  });
  expect(cycle.status).toBe(409);
  expect(cycle.body.code).toBe('IAM_ERR_CYCLE');
  // Expected stream versions came back right: a replacement with the current ETag applies.
  const current = await app.call('GET', `/api/v1/orgs/${ids.child.id}`);
  const body = { name: 'Snap Child', parentId: ids.root.id, description: 'after restart' };
  const update = await app.call('PUT', `/api/v1/orgs/${ids.child.id}`, {
    body,
    headers: { 'if-match': current.headers.get('etag')! },
  });
  expect(update.status).toBe(200);
}

function capturingLogger(lines: Array<{ message: string; fields?: Record<string, unknown> }>): Logger {
  const push = (message: string, fields?: Record<string, unknown>) => void lines.push({ message, fields });
  return { info: push, warn: push, error: push };
}

describe('command-model snapshot', () => {
  it('is written on close, sealed (no personal data in clear), and restores a model that keeps every rule', async () => {
    const first = await startTestApp();
    const ids = await seed(first);
    await first.close();
    const file = readFileSync(join(first.dataDir, SNAPSHOT));
    for (const clear of [ADMIN_EMAIL, 'snap.user@example.test', 'Snap User', 'Snap Child'])
      expect(file.includes(clear)).toBe(false);

    const lines: Array<{ message: string; fields?: Record<string, unknown> }> = [];
    const running = await startStandalone(
      {
        port: 0,
        host: '127.0.0.1',
        dataDir: first.dataDir,
        issuer: 'http://arbor.test',
        passwordCostLog2: 10,
        logLevel: 'silent',
        validateResponses: false,
      },
      capturingLogger(lines),
    );
    await running.close();
    const ready = lines.find((l) => l.message === 'command model ready');
    expect(ready?.fields).toMatchObject({ eventsFolded: 0 });
    expect(ready?.fields?.fromSnapshot).toBe(ready?.fields?.position);

    const second = await startTestApp({ dataDir: first.dataDir });
    try {
      await expectModelRules(second, ids);
    } finally {
      await second.close();
    }
  });

  it('is ignored when unreadable: the model is folded from the log', async () => {
    const first = await startTestApp();
    const ids = await seed(first);
    await first.close();
    writeFileSync(join(first.dataDir, SNAPSHOT), 'not a snapshot');
    const second = await startTestApp({ dataDir: first.dataDir });
    try {
      await expectModelRules(second, ids);
    } finally {
      await second.close();
    }
  });

  it('is ignored when it does not match the log (a log restored from an older backup)', async () => {
    const first = await startTestApp();
    const ids = await seed(first);
    await first.close();
    const backup = mkdtempSync(join(tmpdir(), 'arbor-backup-'));
    cpSync(first.dataDir, backup, { recursive: true });
    // The original moves on and snapshots a later position; the backup's log never saw those events.
    const later = await startTestApp({ dataDir: first.dataDir });
    try {
      await createOrg(later, 'Only Later', ids.root.id);
    } finally {
      await later.close();
    }
    copyFileSync(join(first.dataDir, SNAPSHOT), join(backup, SNAPSHOT));

    const lines: Array<{ message: string; fields?: Record<string, unknown> }> = [];
    const running = await startStandalone(
      {
        port: 0,
        host: '127.0.0.1',
        dataDir: backup,
        issuer: 'http://arbor.test',
        passwordCostLog2: 10,
        logLevel: 'silent',
        validateResponses: false,
      },
      capturingLogger(lines),
    );
    await running.close();
    expect(lines.map((l) => l.message)).toContain(
      'command-model snapshot does not match the event log; folding the whole log',
    );
    const restored = await startTestApp({ dataDir: backup });
    try {
      // Had the later snapshot been used, the model would believe this sibling exists.
      expect(
        (await restored.call('POST', '/api/v1/orgs', { body: { name: 'Only Later', parentId: ids.root.id } })).status,
      ).toBe(201);
      expect(existsSync(join(backup, SNAPSHOT))).toBe(true);
    } finally {
      await restored.close();
    }
  });
});
