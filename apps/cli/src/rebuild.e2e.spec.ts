import Database from 'better-sqlite3';
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createOrg, startTestApp } from '../../standalone/src/test-support/test-app';

/**
 * `arbor rebuild` on the embedded profile's data directory: refused while the server runs; with the server
 * stopped, it replays the whole log into the read models (a row lost from them comes back), shows its progress
 * on standard error and the count and rate on standard output, and the server starts on the result.
 */
const MAIN = resolve(__dirname, '../../../apps/cli/dist/main.js');

function arbor(args: string[], dataDir: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [MAIN, ...args], {
      env: { PATH: process.env.PATH ?? '', IAM_DATA_DIR: dataDir },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.once('exit', (code) => done({ code, stdout, stderr }));
  });
}

describe('arbor rebuild (embedded profile)', () => {
  it('refuses while the server runs, then replays the log into the read models with its progress and rate', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'arbor-cli-rebuild-'));
    const app = await startTestApp({ dataDir });
    let lost: string;
    let before: unknown;
    try {
      const root = await createOrg(app, 'Rebuilt');
      lost = (await createOrg(app, 'Lost and found', root.id)).id;
      before = (await app.call('GET', `/api/v1/orgs/${root.id}/children?depth=all`)).body;
      const refused = await arbor(['rebuild'], dataDir);
      expect([refused.code, refused.stderr]).toEqual([1, expect.stringContaining('stop it, rebuild, start it again')]);
    } finally {
      await app.close();
    }

    // A row the read models lost: only the log still knows it.
    const readModels = new Database(join(dataDir, 'read-models.sqlite'));
    readModels.prepare('DELETE FROM orgs WHERE id = ?').run(lost);
    readModels.close();

    const rebuilt = await arbor(['rebuild'], dataDir);
    expect(rebuilt.code).toBe(0);
    const [, events] = /^Rebuilt the read models: (\d+) events in [\d.]+ s \(\d+ events\/s\)\.\n$/.exec(
      rebuilt.stdout,
    )!;
    expect(Number(events)).toBeGreaterThanOrEqual(3);
    // Not a terminal: a line per tenth of the log, the last at 100%.
    expect(rebuilt.stderr.trim().split('\n').at(-1)).toMatch(
      new RegExp(`^\\[#{30}\\] 100% ${events}/${events} events, \\d+ events/s$`),
    );

    const again = await startTestApp({ dataDir });
    try {
      expect((await again.call('GET', `/api/v1/orgs/${lost}`)).status).toBe(200);
      const root = (before as { items: Array<{ parentId: string }> }).items[0].parentId;
      expect((await again.call('GET', `/api/v1/orgs/${root}/children?depth=all`)).body).toEqual(before);
    } finally {
      await again.close();
    }
    // Without the vault every user would project as erased: refused, the read models left as they are.
    const { renameSync } = await import('node:fs');
    renameSync(join(dataDir, 'vault.sqlite'), join(dataDir, 'vault.sqlite.away'));
    expect(await arbor(['rebuild'], dataDir)).toMatchObject({
      code: 1,
      stderr: expect.stringContaining('No vault.sqlite'),
    });
    renameSync(join(dataDir, 'vault.sqlite.away'), join(dataDir, 'vault.sqlite'));
    expect(await arbor(['rebuild', '--fast'], dataDir)).toMatchObject({
      code: 1,
      stderr: expect.stringContaining('Unknown option --fast'),
    });

    // An event edited outside Arbor into something that is not JSON: the replay stops before it and says why.
    const log = new Database(join(dataDir, 'events.sqlite'));
    const { position } = log
      .prepare("SELECT max(position) AS position FROM events WHERE type = 'OrgCreated'")
      .get() as {
      position: number;
    };
    const head = (log.prepare('SELECT max(position) AS head FROM events').get() as { head: number }).head;
    log.prepare("UPDATE events SET data = 'not json' WHERE position = ?").run(position);
    log.close();
    const stopped = await arbor(['rebuild'], dataDir);
    expect(stopped.code).toBe(1);
    // (It reads the log in pages: the page holding the event is not applied either.)
    expect(stopped.stderr.trim().split('\n').at(-1)).toMatch(
      new RegExp(
        `^arbor rebuild: The replay stopped at position \\d+ of ${head}: The event at position ${position} cannot be read: its data is not JSON `,
      ),
    );
  }, 60_000);
});
