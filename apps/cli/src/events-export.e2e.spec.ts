import { spawn, type ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';
import { createOrg, startTestApp, type TestApp } from '../../standalone/src/test-support/test-app';

/**
 * `arbor events export` and `arbor events tail` on the embedded profile's data directory while the server runs:
 * the lines are the event API's envelopes, in order, filtered as asked; tail waits for the next event.
 */
const MAIN = resolve(__dirname, '../../../apps/cli/dist/main.js');

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(() => app.close());

function arbor(args: string[]): {
  child: ChildProcess;
  lines: () => any[];
  done: Promise<{ code: number | null; stderr: string }>;
} {
  const child = spawn(process.execPath, [MAIN, ...args], {
    env: { PATH: process.env.PATH ?? '', IAM_DATA_DIR: app.dataDir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  const done = new Promise<{ code: number | null; stderr: string }>((r) =>
    child.once('exit', (code) => r({ code, stderr })),
  );
  const lines = () =>
    stdout
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l));
  return { child, lines, done };
}

async function exported(args: string[]): Promise<any[]> {
  const run = arbor(['events', 'export', ...args]);
  const { code, stderr } = await run.done;
  expect([code, stderr]).toEqual([0, '']);
  return run.lines();
}

async function served(query: string): Promise<any[]> {
  const items: any[] = [];
  for (let after = 0; ;) {
    const res = await app.call('GET', `/api/v1/events?after=${after}&limit=200${query}`);
    expect(res.status).toBe(200);
    items.push(...res.body.items);
    if (res.body.nextCursor === null) return items;
    after = items[items.length - 1].position;
  }
}

describe('arbor events export', () => {
  it('writes the log as the event API serves it, one envelope per line, filtered by subtree, type and position', async () => {
    const root = await createOrg(app, 'Exported');
    const child = await createOrg(app, 'Exported child', root.id);
    await createOrg(app, 'Elsewhere');
    const middle = (await served('')).at(-1).position;
    await app.call('PUT', `/api/v1/orgs/${child.id}`, { body: { name: 'Renamed child', parentId: root.id } });

    const all = await exported([]);
    expect(all).toEqual(await served(''));
    expect(all.map((e) => e.position)).toEqual([...all.map((e) => e.position)].sort((a, b) => a - b));
    // A subtree as of a position: the renaming came after it.
    const asOf = await exported(['--org', root.id, '--until-position', String(middle)]);
    expect(asOf.map((e) => [e.type, e.data.orgId])).toEqual([
      ['OrgCreated', root.id],
      ['OrgCreated', child.id],
    ]);
    expect(await exported(['--org', root.id, '--after', String(middle)])).toEqual(
      (await served(`&orgId=${root.id}`)).filter((e) => e.position > middle),
    );
    expect((await exported(['--type', 'OrgUpdated,OrgMoved'])).map((e) => e.type)).toEqual(['OrgUpdated']);
    // Personal data stays sealed: the bootstrap admin's UserCreated holds no email in clear.
    expect(JSON.stringify(all[0])).not.toContain('@');
  });

  it('tail: waits for the next event, and ends on SIGINT', async () => {
    const head = (await served('')).at(-1).position;
    const tail = arbor(['events', 'tail', '--after', String(head), '--type', 'OrgCreated']);
    await new Promise((r) => setTimeout(r, 500));
    const org = await createOrg(app, 'Tailed');
    for (let i = 0; i < 100 && tail.lines().length === 0; i++) await new Promise((r) => setTimeout(r, 50));
    expect(tail.lines().map((e) => [e.type, e.data.orgId])).toEqual([['OrgCreated', org.id]]);
    tail.child.kill('SIGINT');
    expect((await tail.done).code).toBe(0);
  });

  it('refuses what it cannot read, with the reason', async () => {
    const bad = arbor(['events', 'export', '--until', 'yesterday']);
    expect(await bad.done).toEqual({
      code: 1,
      stderr: expect.stringContaining('--until must be an RFC 3339 date-time'),
    });
    const unknown = arbor(['events', 'export', '--since', '2026-01-01T00:00:00Z']);
    expect(await unknown.done).toEqual({ code: 1, stderr: expect.stringContaining("Unknown option '--since'") });
    const nowhere = spawn(process.execPath, [MAIN, 'events', 'export'], {
      env: { PATH: process.env.PATH ?? '', IAM_DATA_DIR: join(app.dataDir, 'nothing-here') },
    });
    let stderr = '';
    nowhere.stderr.on('data', (d) => (stderr += d));
    const code = await new Promise((r) => nowhere.once('exit', r));
    expect([code, stderr]).toEqual([1, expect.stringContaining('No Arbor data in')]);
    const help = arbor(['events', 'export', '--help']);
    expect((await help.done).code).toBe(0);
  });
});
