import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { runArbor } from './run-arbor.test-support';
import { createOrg, startTestApp, type TestApp } from '../../standalone/src/test-support/test-app';

/** `arbor restore`: an export of `events export --chain` put back as the log of an empty data directory. */

const arbor = (args: string[], dataDir: string) => runArbor(args, { IAM_DATA_DIR: dataDir });

describe('arbor restore', () => {
  const work = mkdtempSync(join(tmpdir(), 'arbor-restore-'));
  const file = join(work, 'log.ndjson');
  const jwks = join(work, 'jwks.json');
  let source: TestApp;
  let head: any;
  /** A signed head from before the last writes: the export holds events after it. */
  let earlier: any;
  let orgs: any[];
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  beforeAll(async () => {
    // A checkpoint each second while the log grows: the export carries the server's signed checkpoints.
    source = await startTestApp({ logCheckpointSeconds: 1 });
    const root = await createOrg(source, 'Restored root');
    const child = await createOrg(source, 'Restored child', root.id);
    earlier = (await source.call('GET', '/api/v1/events/verify')).body;
    await source.call('PUT', `/api/v1/orgs/${child.id}`, { body: { name: 'Renamed child', parentId: root.id } });
    orgs = [
      (await source.call('GET', `/api/v1/orgs/${root.id}`)).body,
      (await source.call('GET', `/api/v1/orgs/${child.id}`)).body,
    ];
    for (let tries = 0; tries < 100; tries++) {
      head = (await source.call('GET', '/api/v1/events/verify')).body;
      const exported = await arbor(['events', 'export', '--chain'], source.dataDir);
      // Both: a checkpoint signed between the verification and the export would leave `head` without it.
      if (head.checkpoints > 0 && exported.stdout.trimEnd().split('\n').at(-1)!.startsWith('{"checkpoint":')) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(head.checkpoints).toBeGreaterThan(0);
    writeFileSync(jwks, (await source.call('GET', '/.well-known/jwks.json', { token: null })).text);
    const exported = await arbor(['events', 'export', '--chain'], source.dataDir);
    expect(exported.code).toBe(0);
    writeFileSync(file, exported.stdout);
    await source.close();
  });

  it('writes the log exactly as exported: the server on it answers the same, and its chain has the same head', async () => {
    const target = join(work, 'restored');
    const run = await arbor(['restore', '--file', file, '--jwks', jwks, '--signed-head', head.signedHead], target);
    expect([run.code, run.stderr]).toEqual([0, '']);
    expect(run.stdout).toContain(`Restored ${head.events} events`);
    // The vault holds the passwords and the data keys: the operator puts it beside the log.
    copyFileSync(join(source.dataDir, 'vault.sqlite'), join(target, 'vault.sqlite'));
    cpSync(join(source.dataDir, 'keys'), join(target, 'keys'), { recursive: true });

    const restored = await startTestApp({ dataDir: target });
    try {
      for (const org of orgs) expect((await restored.call('GET', `/api/v1/orgs/${org.id}`)).body).toEqual(org);
      const verified = (await restored.call('GET', '/api/v1/events/verify')).body;
      expect(verified).toMatchObject({ valid: true, events: head.events, head: head.head });
    } finally {
      await restored.close();
    }
  });

  it('refuses an export that does not verify (exit 3, nothing written) and a directory that holds a log (exit 1)', async () => {
    const lines = readFileSync(file, 'utf8').split('\n').filter(Boolean);
    const changed = join(work, 'changed.ndjson');
    writeFileSync(
      changed,
      lines.map((l, i) => (i === 2 ? l.replace('"occurredAt":"2', '"occurredAt":"1') : l)).join('\n'),
    );
    const target = join(work, 'refused');
    const broken = await arbor(['restore', '--file', changed, '--jwks', jwks, '--trust-unsigned'], target);
    expect([broken.code, broken.stdout]).toEqual([
      3,
      expect.stringMatching(/^Not restored\. The event log is broken at position 3 \(altered\)/),
    ]);
    expect(existsSync(join(target, 'events.sqlite'))).toBe(false);

    const unchecked = await arbor(['restore', '--file', file], join(work, 'unchecked'));
    expect([unchecked.code, unchecked.stderr]).toEqual([1, expect.stringContaining('give --jwks')]);
    const again = await arbor(['restore', '--file', file, '--jwks', jwks, '--trust-unsigned'], source.dataDir);
    expect([again.code, again.stderr]).toEqual([1, expect.stringContaining('already holds an event log')]);
    expect((await arbor(['restore'], target)).code).toBe(1);
  });

  it('restores only what a signed head signs, or what the operator vouches for', async () => {
    // Without a signed head: nothing shows that the end was not cut or rewritten after the last checkpoint.
    const unsigned = await arbor(['restore', '--file', file, '--jwks', jwks], join(work, 'unsigned'));
    expect([unsigned.code, unsigned.stderr]).toEqual([1, expect.stringContaining('--trust-unsigned')]);
    expect(existsSync(join(work, 'unsigned', 'events.sqlite'))).toBe(false);
    // Events after the signed head are chained, but nothing signed them: the server would sign them once restored.
    const after = await arbor(
      ['restore', '--file', file, '--jwks', jwks, '--signed-head', earlier.signedHead],
      join(work, 'after-head'),
    );
    expect([after.code, after.stdout]).toEqual([
      3,
      expect.stringContaining(`events after the signed head (positions ${earlier.head.position + 1} to`),
    ]);
    expect(existsSync(join(work, 'after-head', 'events.sqlite'))).toBe(false);
    const vouched = await arbor(['restore', '--file', file, '--jwks', jwks, '--trust-unsigned'], join(work, 'vouched'));
    expect(vouched.code).toBe(0);
  });

  it('restores only into a directory that holds nothing but the vault and the keys', async () => {
    // Another deployment's read models would be served beside the restored log: refused, nothing written.
    const crowded = join(work, 'crowded');
    mkdirSync(crowded);
    copyFileSync(join(source.dataDir, 'read-models.sqlite'), join(crowded, 'read-models.sqlite'));
    writeFileSync(join(crowded, 'notes.txt'), 'stray');
    const refused = await arbor(['restore', '--file', file, '--jwks', jwks], crowded);
    expect([refused.code, refused.stderr]).toEqual([
      1,
      expect.stringContaining(`${crowded} is not empty: it holds notes.txt, read-models.sqlite.`),
    ]);
    expect(existsSync(join(crowded, 'events.sqlite'))).toBe(false);

    const prepared = join(work, 'prepared');
    mkdirSync(prepared);
    copyFileSync(join(source.dataDir, 'vault.sqlite'), join(prepared, 'vault.sqlite'));
    cpSync(join(source.dataDir, 'keys'), join(prepared, 'keys'), { recursive: true });
    expect(
      (await arbor(['restore', '--file', file, '--jwks', jwks, '--signed-head', head.signedHead], prepared)).code,
    ).toBe(0);

    const aFile = join(work, 'a-file');
    writeFileSync(aFile, '');
    expect(await arbor(['restore', '--file', file, '--jwks', jwks], aFile)).toMatchObject({
      code: 1,
      stderr: expect.stringContaining(`${aFile} is not a directory`),
    });
    expect(await arbor(['restore', '--file', work, '--jwks', jwks], join(work, 'unused'))).toMatchObject({
      code: 1,
      stderr: expect.stringContaining(`${work} is not a file`),
    });
    // An empty export (a failed export or redirect leaves one) restores nothing: a log begins with its first event.
    const empty = join(work, 'empty.ndjson');
    writeFileSync(empty, '');
    expect(await arbor(['restore', '--file', empty, '--trust-unsigned'], join(work, 'from-empty'))).toMatchObject({
      code: 1,
      stderr: expect.stringContaining('holds no event'),
    });
    expect(existsSync(join(work, 'from-empty', 'events.sqlite'))).toBe(false);
    expect(await arbor(['restore', '--file', file, '--file', jwks], join(work, 'unused'))).toMatchObject({
      code: 1,
      stderr: expect.stringContaining('--file may be given once'),
    });
  });

  it('exports a log cut after a checkpoint with that checkpoint, so that its verification names the cut', async () => {
    const cut = join(work, 'cut');
    cpSync(source.dataDir, cut, { recursive: true });
    const last = head.head.position;
    const raw = new Database(join(cut, 'events.sqlite'));
    raw.pragma('foreign_keys = OFF');
    raw.exec(`DELETE FROM event_orgs WHERE position >= ${last - 1}; DELETE FROM events WHERE position >= ${last - 1}`);
    raw.close();
    const exported = await arbor(['events', 'export', '--chain'], cut);
    const cutFile = join(work, 'cut.ndjson');
    writeFileSync(cutFile, exported.stdout);
    const verified = await arbor(['events', 'verify', '--file', cutFile, '--jwks', jwks, '--json'], cut);
    expect(verified.code).toBe(3);
    expect(JSON.parse(verified.stdout)).toMatchObject({
      valid: false,
      firstBreak: { kind: 'truncated', position: last },
    });
    expect(
      (await arbor(['restore', '--file', cutFile, '--jwks', jwks, '--trust-unsigned'], join(work, 'from-cut'))).code,
    ).toBe(3);
  });
});
