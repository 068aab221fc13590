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

/** The export's lines without their request metadata (which the event API shows opened, as `audit`). */
async function exported(args: string[]): Promise<any[]> {
  return (await exportedWithMetadata(args)).map(({ requestMetadata: _m, ...event }) => event);
}

async function exportedWithMetadata(args: string[]): Promise<any[]> {
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
    items.push(...res.body.items.map(({ audit: _audit, ...envelope }: any) => envelope));
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
    // Personal data stays sealed: the bootstrap admin's UserCreated holds no email in clear, and the request
    // metadata of the admin's writes is sealed under the admin's key (issue 14); the system's events have none.
    expect(JSON.stringify(all[0])).not.toContain('@');
    const withMetadata = await exportedWithMetadata([]);
    expect(withMetadata[0]).not.toHaveProperty('requestMetadata');
    expect(withMetadata.at(-1).requestMetadata).toEqual({
      sealed: expect.stringMatching(/^v1\./),
      subjectId: all[0].data.userId,
    });
    expect(JSON.stringify(withMetadata)).not.toContain('metadataDigest');
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

  it('writes every line to a slow reader, and ends quietly when the reader goes away', async () => {
    // More than a pipe buffer (64 KiB) of lines, read only after a pause.
    const root = await createOrg(app, 'Many');
    for (let i = 0; i < 15; i++)
      await Promise.all(Array.from({ length: 20 }, (_, j) => createOrg(app, `Many ${i}-${j}`, root.id)));
    const expected = (await served('')).length;
    expect(expected).toBeGreaterThan(300);
    const slow = arbor(['events', 'export']);
    slow.child.stdout!.pause();
    await new Promise((r) => setTimeout(r, 500));
    slow.child.stdout!.resume();
    expect((await slow.done).code).toBe(0);
    expect(slow.lines()).toHaveLength(expected);

    // `arbor events export | head -1`: the reader leaves after one line.
    const head = spawn(
      'bash',
      ['-c', `"${process.execPath}" "${MAIN}" events export | head -1; echo "exit \${PIPESTATUS[0]}" >&2`],
      {
        env: { PATH: process.env.PATH ?? '', IAM_DATA_DIR: app.dataDir },
      },
    );
    let out = '';
    let err = '';
    head.stdout.on('data', (d) => (out += d));
    head.stderr.on('data', (d) => (err += d));
    await new Promise((r) => head.once('exit', r));
    expect(out.trim().split('\n')).toHaveLength(1);
    // No stack trace, no EPIPE: exit 0 (the shell's own start-up lines aside).
    expect(err).toMatch(/(^|\n)exit 0\n$/);
    expect(err).not.toMatch(/EPIPE|Error|at /);
  });

  it("reads --until and --type by the event API's rules, refusing what it cannot mean", async () => {
    const stamp = (await served('')).at(-1).occurredAt as string;
    const at = async (until: string) => (await exported(['--until', until])).length;
    const all = (await served('')).length;
    // Offsets, a leap second, lower-case separators: what RFC 3339 allows.
    expect(await at(stamp)).toBe(all);
    expect(await at(stamp.replace('Z', '+00:00').replace('T', 't'))).toBe(all);
    expect(await at('2000-12-31T23:59:60Z')).toBe(0);
    expect(await at('9999-12-31T23:59:59.999z')).toBe(all);
    for (const bad of ['2026-12-01T13:36:17.831', '2026-02-30T00:00:00Z', '0000-01-01T00:00:00Z', 'yesterday']) {
      const run = arbor(['events', 'export', '--until', bad]);
      expect([bad, await run.done]).toEqual([
        bad,
        { code: 1, stderr: expect.stringContaining('--until must be an RFC 3339') },
      ]);
    }
    // Types: repeatable and comma-separated; none empty; each one known.
    const types = await exported(['--type', 'OrgCreated', '--type', 'OrgUpdated,UserCreated']);
    expect(new Set(types.map((e) => e.type))).toEqual(new Set(['OrgCreated', 'OrgUpdated', 'UserCreated']));
    for (const [args, message] of [
      [['--type', ''], 'none empty'],
      [['--type', ','], 'none empty'],
      [['--type', 'orgcreated'], 'Unknown event type orgcreated'],
      [['--org', ''], '--org needs an organization id'],
      [['--org', 'a', '--org', 'b'], '--org may be given once'],
      [['--org', 'org_never'], 'No organization org_never was ever created in this log'],
      [['--org', 'org nope'], '--org takes an organization id'],
      [['--chain', '--chain'], '--chain may be given once'],
      [['--follow', '--follow'], '--follow may be given once'],
      [['--after', '9007199254740992'], 'from 0 to 2^53 - 1'],
    ] as const) {
      const run = arbor(['events', 'export', ...args]);
      expect([args, await run.done]).toEqual([args, { code: 1, stderr: expect.stringContaining(message) }]);
    }
    expect(await exported(['--after', '9007199254740991'])).toEqual([]);
  });

  it('tail stops at --until-position, and refuses --until', async () => {
    const head = (await served('')).at(-1).position;
    const tail = arbor(['events', 'tail', '--until-position', String(head)]);
    expect((await tail.done).code).toBe(0);
    expect(tail.lines().at(-1).position).toBe(head);
    const refused = arbor(['events', 'tail', '--until', '2026-01-01T00:00:00Z']);
    expect(await refused.done).toEqual({ code: 1, stderr: expect.stringContaining('a tail never reaches') });
  });

  it('tail stops at --until-position also when a filter matches nothing up to it, or something after it', async () => {
    const org = await createOrg(app, 'Tail filtered');
    const created = (await served(`&type=OrgCreated`)).at(-1).position;
    expect(created).toBeGreaterThan(0);
    // Events after it that the filter does not match: the log passes the bound while the filter sees nothing.
    expect(
      (await app.call('PUT', `/api/v1/orgs/${org.id}`, { body: { name: 'Tail filtered 2', parentId: null } })).status,
    ).toBe(200);
    const head = (await served('')).at(-1).position;
    expect(head).toBeGreaterThan(created);
    const stopping = async (args: string[]) => {
      const tail = arbor(['events', 'tail', ...args]);
      const timer = setTimeout(() => tail.child.kill('SIGKILL'), 10_000);
      const done = await tail.done;
      clearTimeout(timer);
      expect(done).toEqual({ code: 0, stderr: '' });
      return tail.lines().map((e) => e.position);
    };
    expect((await stopping(['--type', 'OrgCreated', '--until-position', String(head)])).at(-1)).toBe(created);
    // And a matching event beyond the bound: it ends without it.
    const later = await createOrg(app, 'Tail filtered later');
    expect(later.id).toBeDefined();
    expect((await stopping(['--type', 'OrgCreated', '--until-position', String(head)])).at(-1)).toBe(created);
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
    // Read-only: an empty file where the log should be is refused and left as it was (not created, not migrated).
    const { mkdtempSync, writeFileSync, statSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const empty = mkdtempSync(join(tmpdir(), 'arbor-cli-empty-'));
    writeFileSync(join(empty, 'events.sqlite'), '');
    const onEmpty = spawn(process.execPath, [MAIN, 'events', 'export'], {
      env: { PATH: process.env.PATH ?? '', IAM_DATA_DIR: empty },
    });
    let emptyErr = '';
    onEmpty.stderr.on('data', (d) => (emptyErr += d));
    expect([await new Promise((r) => onEmpty.once('exit', r)), emptyErr]).toEqual([
      1,
      expect.stringContaining('schema version 0'),
    ]);
    expect(statSync(join(empty, 'events.sqlite')).size).toBe(0);
  });
});
