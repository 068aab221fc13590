import { spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startExpiryPurge, type Logger } from '@arbor/application';
import type { RunningStandalone } from '../../standalone/src/start-standalone';
import { queryEventLog, tamperEventLog } from '../../standalone/src/test-support/tamper-event-log';
import { ARBOR_MAIN, runArbor } from './run-arbor.test-support';
import { createOrg, startTestApp, type TestApp } from '../../standalone/src/test-support/test-app';

/** `arbor events verify` on the embedded profile's data directory while the server runs, and offline on exports. */

let app: TestApp;
beforeAll(async () => {
  // The server signs a checkpoint each second while the log grows: exports carry them.
  app = await startTestApp({ logCheckpointSeconds: 1 });
});
afterAll(() => app.close());

const arbor = (args: string[]) => runArbor(args, { IAM_DATA_DIR: app.dataDir });

describe('arbor events verify', () => {
  it('says the log is intact, in a sentence or as the API report, and exits 0', async () => {
    const root = await createOrg(app, 'Verified');
    await createOrg(app, 'Verified child', root.id);
    const api = (await app.call('GET', '/api/v1/events/verify')).body;
    expect(api.valid).toBe(true);

    const plain = await arbor(['events', 'verify']);
    expect(plain.code).toBe(0);
    expect(plain.stdout).toMatch(
      new RegExp(
        `^The event log is intact: ${api.events} events, \\d+ signed checkpoints, head ${api.head.position} ${api.head.hash} \\(`,
      ),
    );
    const json = await arbor(['events', 'verify', '--json']);
    // The server may sign a checkpoint between the two verifications (one a second here): only that may differ.
    const { signedHead: _signed, checkpoints, ...unsigned } = api;
    const { checkpoints: checkpointsLater, ...report } = JSON.parse(json.stdout);
    expect([json.code, report]).toEqual([0, { ...unsigned, checkpointsChecked: true }]);
    expect(checkpointsLater).toBeGreaterThanOrEqual(checkpoints);
  });

  it('exits 1, saying why, when its report cannot be written (a full disk), as export does', async () => {
    for (const args of [
      ['events', 'verify'],
      ['events', 'verify', '--json'],
      ['events', 'export'],
    ]) {
      const full = openSync('/dev/full', 'w');
      try {
        const child = spawn(process.execPath, [ARBOR_MAIN, ...args], {
          env: { PATH: process.env.PATH ?? '', IAM_DATA_DIR: app.dataDir },
          stdio: ['ignore', full, 'pipe'],
        });
        let stderr = '';
        child.stderr!.on('data', (d) => (stderr += d));
        const code = await new Promise((r) => child.once('exit', r));
        expect([args, code, stderr]).toEqual([args, 1, expect.stringContaining('cannot write the output')]);
      } finally {
        closeSync(full);
      }
    }
  });

  describe('offline, on an export (--chain) with the JWKS and a signed head', () => {
    let dir: string;
    let api: any;
    const exportFile = () => join(dir, 'log.ndjson');
    const jwksFile = () => join(dir, 'jwks.json');
    const lines = () => readFileSync(exportFile(), 'utf8').split('\n').filter(Boolean);
    const eventLines = () => lines().filter((l) => !l.startsWith('{"checkpoint":'));
    /** The first event line written with request metadata (it has a digest). */
    const withMetadata = () => eventLines().find((l) => JSON.parse(l).metadataDigest !== undefined)!;
    const offline = (file: string, head = api.signedHead) =>
      arbor(['events', 'verify', '--file', file, '--jwks', jwksFile(), '--signed-head', head, '--json']);

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'arbor-export-'));
      const root = await createOrg(app, 'Exported for the auditor');
      for (let i = 0; i < 6; i++) await createOrg(app, `Exported child ${i}`, root.id);
      // Until the server has signed a checkpoint of the head (nothing is written meanwhile).
      const head = (await app.call('GET', `/api/v1/events?streamId=org-${root.id}`)).body.items[0].position + 6;
      for (let tries = 0; tries < 100; tries++) {
        api = (await app.call('GET', '/api/v1/events/verify')).body;
        const exported = await arbor(['events', 'export', '--chain']);
        if (
          api.head.position === head &&
          exported.stdout.trimEnd().endsWith('}') &&
          /"checkpoint":/.test(exported.stdout.split('\n').filter(Boolean).at(-1)!)
        )
          break;
        await new Promise((r) => setTimeout(r, 100));
      }
      writeFileSync(jwksFile(), (await app.call('GET', '/.well-known/jwks.json', { token: null })).text);
      const run = await arbor(['events', 'export', '--chain', '--until-position', String(api.head.position)]);
      expect([run.code, run.stderr]).toEqual([0, '']);
      writeFileSync(exportFile(), run.stdout);
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('verifies an export against the signed head it was cut at, and the checkpoints it carries', async () => {
      const events = lines().filter((l) => !l.startsWith('{"checkpoint":'));
      expect(events).toHaveLength(api.events);
      expect(lines().at(-1)).toMatch(/^\{"checkpoint":"ey/);
      expect(JSON.parse(lines()[0])).toMatchObject({ position: 1, orgPath: [], prevHash: 'A'.repeat(43) });
      const run = await offline(exportFile());
      expect(run.code).toBe(0);
      expect(JSON.parse(run.stdout)).toMatchObject({
        valid: true,
        events: api.events,
        checkpoints: lines().length - api.events,
        checkpointsChecked: true,
        head: api.head,
        signedHead: { matches: true, claims: { position: api.head.position, hash: api.head.hash } },
      });
      const plain = await arbor(['events', 'verify', '--file', exportFile()]);
      expect([plain.code, plain.stdout]).toEqual([0, expect.stringMatching(/^The event log is intact: /)]);
    });

    it('finds lines cut from the end, a changed line and lines moved, and exits 3', async () => {
      const variants: Array<[string, string[], object]> = [
        [
          'cut',
          lines().slice(0, -2),
          {
            valid: true,
            signedHead: expect.objectContaining({
              matches: false,
              detail: expect.stringContaining('cut from its end'),
            }),
          },
        ],
        [
          'changed',
          eventLines().map((l, i) => (i === 3 ? l.replace('"occurredAt":"2', '"occurredAt":"1') : l)),
          { valid: false, firstBreak: { kind: 'altered', position: 4 } },
        ],
        [
          'moved',
          eventLines().map((l, i, all) => (i === 4 ? all[5] : i === 5 ? all[4] : l)),
          { valid: false, firstBreak: { kind: 'reordered', position: 5 } },
        ],
        [
          // Request metadata gone with no recorded retention drop (RequestMetadataDropped) in the export to cover it.
          'metadata removed',
          eventLines().map((l) =>
            l === withMetadata() ? JSON.stringify({ ...JSON.parse(l), requestMetadata: null }) : l,
          ),
          { valid: false, firstBreak: { kind: 'metadata', position: JSON.parse(withMetadata()).position } },
        ],
        [
          // Unsigned content beside the envelope: the hash does not cover it, so it may not pass.
          'member added',
          eventLines().map((l, i) => (i === 5 ? JSON.stringify({ ...JSON.parse(l), note: 'injected' }) : l)),
          {
            valid: false,
            firstBreak: { kind: 'altered', position: 6, detail: expect.stringContaining('(note)') },
          },
        ],
        [
          // Inside the actor too: the hash covers its type and id only (a forged attribution would pass).
          'actor member added',
          eventLines().map((l, i) => {
            if (i !== 5) return l;
            const event = JSON.parse(l);
            return JSON.stringify({ ...event, actor: { onBehalfOf: 'usr_forged', ...event.actor } });
          }),
          {
            valid: false,
            firstBreak: { kind: 'altered', position: 6, detail: expect.stringContaining('(actor.onBehalfOf)') },
          },
        ],
        [
          // A member written twice: a parser keeping the first value reads another event than the one hashed.
          'member repeated',
          eventLines().map((l, i) => (i === 5 ? l.replace('"type":"', '"type":"OrgDeleted","type":"') : l)),
          {
            valid: false,
            firstBreak: { kind: 'altered', position: 6, detail: expect.stringContaining('not written as the export') },
          },
        ],
        [
          // A line cut in the middle (a damaged copy): the event after the last whole line.
          'line cut',
          eventLines().map((l, i) => (i === 6 ? l.slice(0, 40) : l)),
          { valid: false, firstBreak: { kind: 'altered', position: 7, detail: expect.stringContaining('not JSON') } },
        ],
        [
          // The first break is named, not a later damaged or moved line that happens to be read in the same page.
          'changed, then a line cut',
          eventLines().map((l, i) =>
            i === 3 ? l.replace('"occurredAt":"2', '"occurredAt":"1') : i === 6 ? l.slice(0, 40) : l,
          ),
          { valid: false, firstBreak: { kind: 'altered', position: 4, detail: expect.not.stringContaining('JSON') } },
        ],
        [
          'changed, then lines moved',
          eventLines().map((l, i, all) =>
            i === 3 ? l.replace('"occurredAt":"2', '"occurredAt":"1') : i === 5 ? all[6] : i === 6 ? all[5] : l,
          ),
          { valid: false, firstBreak: { kind: 'altered', position: 4 } },
        ],
        [
          // Lines moved after a later one: the lines before the disorder show a gap (event 4 follows 3, event 7
          // follows 6), but only the whole file tells a move from a removal.
          'lines moved after later ones',
          eventLines().map((l, i, all) => (i >= 3 && i < 5 ? all[i + 3] : i >= 5 && i < 8 ? all[i - 2] : l)),
          { valid: false, firstBreak: { kind: 'reordered' } },
        ],
        [
          'position edited',
          eventLines().map((l, i) => (i === 4 ? l.replace('"position":5,', '"position":55,') : l)),
          {
            valid: false,
            firstBreak: {
              kind: 'reordered',
              position: 6,
              detail: expect.stringContaining('after position 55 on line'),
            },
          },
        ],
        [
          // A copy of a line put in right after it: an insertion, not a move.
          'line repeated',
          eventLines().flatMap((l, i) => (i === 4 ? [l, l] : [l])),
          { valid: false, firstBreak: { kind: 'inserted', position: 5, detail: expect.stringContaining('repeats') } },
        ],
        [
          // Checkpoint lines are lines of the export too: one cut short, added to or repeated was changed.
          'checkpoint line cut',
          [...lines(), lines().at(-1)!.slice(0, 30)],
          { valid: false, firstBreak: { kind: 'altered', detail: expect.stringContaining('checkpoint line') } },
        ],
        [
          'checkpoint member added',
          lines().map((l, i, all) => (i === all.length - 1 ? l.replace(/}$/, ',"x":1}') : l)),
          { valid: false, firstBreak: { kind: 'altered', detail: expect.stringContaining('checkpoint line') } },
        ],
        [
          'checkpoint line repeated',
          [...lines(), lines().at(-1)!],
          { valid: false, firstBreak: { kind: 'altered', detail: expect.stringContaining('repeats the checkpoint') } },
        ],
        [
          'forged checkpoint',
          lines().map((l, i, all) =>
            i === all.length - 1 ? `{"checkpoint":"e30.e30.AAAA","position":${api.head.position}}` : l,
          ),
          { valid: false, firstBreak: { kind: 'checkpoint', position: api.head.position } },
        ],
      ];
      for (const [name, content, expected] of variants) {
        const file = join(dir, `${name}.ndjson`);
        writeFileSync(file, content.join('\n') + '\n');
        const run = await offline(file);
        expect([name, run.code]).toEqual([name, 3]);
        expect(JSON.parse(run.stdout)).toMatchObject(expected);
      }
    });

    it('refuses a signed head the key set does not verify, and a chained export with filters (exit 1)', async () => {
      const [h, p] = api.signedHead.split('.');
      const forged = await offline(exportFile(), `${h}.${p}.${'A'.repeat(86)}`);
      expect([forged.code, forged.stderr]).toEqual([1, expect.stringContaining('does not verify')]);
      const notAHead = await offline(exportFile(), app.adminToken);
      expect([notAHead.code, notAHead.stderr]).toEqual([1, expect.stringContaining('typ is at+jwt')]);
      // A garbled checkpoint line is found without a key set too: a changed export (exit 3), not a refusal.
      const garbled = join(dir, 'garbled.ndjson');
      writeFileSync(garbled, [...lines(), '{"checkpoint":"not a jws","smuggled":"payload"}'].join('\n') + '\n');
      const unkeyed = await arbor(['events', 'verify', '--file', garbled, '--json']);
      expect([unkeyed.code, JSON.parse(unkeyed.stdout).firstBreak?.kind]).toEqual([3, 'altered']);
      // A key set that is none, and an export that holds no event: the input is wrong (exit 1), not the log.
      for (const content of ['{}', '{"keys":[]}', '[1,2]', 'null', '{"keys":[1]}']) {
        const notKeys = join(dir, 'not-keys.json');
        writeFileSync(notKeys, content);
        const run = await arbor(['events', 'verify', '--file', exportFile(), '--jwks', notKeys]);
        expect([content, run.code, run.stderr]).toEqual([content, 1, expect.stringContaining('is not a key set')]);
      }
      // Another issuer's key set: none of its keys signed a checkpoint, and no signed head shows it is the issuer's.
      const otherKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'jwk' });
      const otherKeys = join(dir, 'other-keys.json');
      writeFileSync(otherKeys, JSON.stringify({ keys: [{ ...otherKey, kid: 'another-issuer', alg: 'ES256' }] }));
      const wrong = await arbor(['events', 'verify', '--file', exportFile(), '--jwks', otherKeys]);
      expect([wrong.code, wrong.stderr]).toEqual([1, expect.stringContaining("is it the issuer's JWKS?")]);
      const empty = join(dir, 'empty.ndjson');
      writeFileSync(empty, '');
      const nothing = await arbor(['events', 'verify', '--file', empty]);
      expect([nothing.code, nothing.stderr]).toEqual([1, expect.stringContaining('holds no event')]);
      const filtered = await arbor(['events', 'export', '--chain', '--type', 'OrgCreated']);
      expect([filtered.code, filtered.stderr]).toEqual([1, expect.stringContaining('only --until-position')]);
    });
  });

  it('refuses an unknown option (exit 1) and documents itself', async () => {
    const bad = await arbor(['events', 'verify', '--fast']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('Usage: arbor events verify [--json]');
    const help = await arbor(['events', 'verify', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('3 when one was altered, removed');
    // -h as --help, here and for the whole tool; --version names the release.
    for (const args of [['events', 'verify', '-h'], ['-h'], ['help'], ['--help']]) {
      const run = await arbor(args);
      expect([args, run.code, run.stdout]).toEqual([args, 0, expect.stringContaining('events verify')]);
    }
    const version = await arbor(['--version']);
    expect([version.code, version.stdout]).toEqual([0, expect.stringMatching(/^arbor \d+\.\d+\.\d+\n$/)]);
    // parseArgs would keep the last of two: the operator could believe the first was verified.
    expect(await arbor(['events', 'verify', '--file', 'a.ndjson', '--file', 'b.ndjson'])).toMatchObject({
      code: 1,
      stderr: expect.stringContaining('--file may be given once'),
    });
    expect(await arbor(['events', 'verify', '--file', '/nonexistent/export.ndjson'])).toMatchObject({
      code: 1,
      stderr: 'arbor events verify: No export at /nonexistent/export.ndjson.\n',
    });
    // A subcommand the group does not have is named as such, not as an unknown group.
    const unknown = await arbor(['events', 'bogus']);
    expect([unknown.code, unknown.stderr.split('\n')[0]]).toEqual([
      2,
      '"arbor events" takes one of: export, tail, verify (not "bogus").',
    ]);
  });

  it('names an event whose request metadata was removed without a recorded retention drop, as the API does', async () => {
    const org = await createOrg(app, 'Metadata removed');
    const { items } = (await app.call('GET', `/api/v1/events?streamId=org-${org.id}`)).body;
    const at = items[0].position;
    await tamperEventLog(
      app,
      `CREATE TABLE kept_metadata AS SELECT request_metadata FROM events WHERE position = ${at};
       UPDATE events SET request_metadata = NULL WHERE position = ${at}`,
    );
    const api = (await app.call('GET', '/api/v1/events/verify')).body;
    expect(api).toMatchObject({ valid: false, firstBreak: { kind: 'metadata', position: at } });
    const run = await arbor(['events', 'verify']);
    expect(run.code).toBe(3);
    expect(run.stdout).toMatch(new RegExp(`^The event log is broken at position ${at} \\(metadata\\): `));
    const json = JSON.parse((await arbor(['events', 'verify', '--json'])).stdout);
    expect(json).toMatchObject({ valid: false, events: api.events, firstBreak: api.firstBreak });
    // Put back, the log is whole again.
    await tamperEventLog(
      app,
      `UPDATE events SET request_metadata = (SELECT request_metadata FROM kept_metadata) WHERE position = ${at};
       DROP TABLE kept_metadata`,
    );
    expect((await arbor(['events', 'verify'])).code).toBe(0);
  });

  it('accepts the metadata a retention round dropped, recorded first: through the API, the CLI and offline', async () => {
    const org = await createOrg(app, 'Past its retention');
    // A signed head from before the drop: it signs nothing the drop does.
    const headBefore = (await app.call('GET', '/api/v1/events/verify')).body;
    expect(headBefore.signedHead).toEqual(expect.any(String));
    const running = app.running as RunningStandalone;
    const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined } as unknown as Logger;
    const recorded: Array<[string, string | null]> = [];
    // A purge round of the server's own, as of two days from now with one day's retention: every metadata goes.
    startExpiryPurge({
      eventStore: running.stores.eventStore,
      tokenStore: running.stores.tokenStore,
      log: quiet,
      auditRetentionDays: 1,
      now: () => Date.now() + 2 * 86_400_000,
      recordDrop: async (before, orgId) => {
        recorded.push([before, orgId]);
        await running.commands.execute({ type: 'RecordRequestMetadataDrop', before, orgId }, { principal: 'system' });
      },
    }).stop();
    const created = async () => (await app.call('GET', `/api/v1/events?streamId=org-${org.id}`)).body.items[0];
    for (let i = 0; i < 100 && (await created()).audit.request.dropped !== true; i++)
      await new Promise((r) => setTimeout(r, 20));
    expect((await created()).audit.request).toEqual({ dropped: true });
    expect(recorded).toEqual([[expect.any(String), null]]);
    const drops = (await app.call('GET', '/api/v1/events?streamId=audit-retention-server')).body.items;
    expect(drops).toMatchObject([
      { type: 'RequestMetadataDropped', actor: { type: 'system' }, data: { before: recorded[0][0], orgId: null } },
    ]);
    expect(drops[0].position).toBeGreaterThan((await created()).position);

    const api = (await app.call('GET', '/api/v1/events/verify')).body;
    expect(api).toMatchObject({ valid: true });
    expect((await arbor(['events', 'verify'])).code).toBe(0);
    const dir = mkdtempSync(join(tmpdir(), 'arbor-dropped-'));
    try {
      const exported = await arbor(['events', 'export', '--chain', '--until-position', String(api.head.position)]);
      expect(exported.code).toBe(0);
      const file = join(dir, 'log.ndjson');
      writeFileSync(file, exported.stdout);
      const offline = await arbor(['events', 'verify', '--file', file, '--json']);
      expect([offline.code, JSON.parse(offline.stdout)]).toEqual([
        0,
        expect.objectContaining({ valid: true, events: api.events, head: api.head }),
      ]);
      // Against a signed head, a drop counts only if that head signs it: one after it (anyone can chain a line onto
      // an export's end) does not excuse metadata gone from the events it signed.
      const jwks = join(dir, 'jwks.json');
      writeFileSync(jwks, (await app.call('GET', '/.well-known/jwks.json', { token: null })).text);
      const signed = (head: string) =>
        arbor(['events', 'verify', '--file', file, '--jwks', jwks, '--signed-head', head, '--json']);
      const now = await signed(api.signedHead);
      expect([now.code, JSON.parse(now.stdout)]).toEqual([0, expect.objectContaining({ valid: true })]);
      const earlier = await signed(headBefore.signedHead);
      expect([earlier.code, JSON.parse(earlier.stdout)]).toEqual([
        3,
        expect.objectContaining({ valid: false, firstBreak: expect.objectContaining({ kind: 'metadata' }) }),
      ]);
      // Without the drop's line (and the lines after it) in the export, the dropped metadata is not covered.
      const lines = exported.stdout.split('\n').filter(Boolean);
      const cut = lines.slice(
        0,
        lines.findIndex((l) => l.includes('"RequestMetadataDropped"')),
      );
      writeFileSync(file, cut.join('\n') + '\n');
      const uncovered = await arbor(['events', 'verify', '--file', file, '--json']);
      expect([uncovered.code, JSON.parse(uncovered.stdout)]).toEqual([
        3,
        expect.objectContaining({ valid: false, firstBreak: expect.objectContaining({ kind: 'metadata' }) }),
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('names an event whose stored data is no longer JSON as altered (exit 3, and a 200 report from the API)', async () => {
    const root = await createOrg(app, 'Soon unreadable');
    const { items } = (await app.call('GET', `/api/v1/events?streamId=org-${root.id}`)).body;
    const at = items[0].position;
    const [{ data }] = await queryEventLog(app, `SELECT data FROM events WHERE position = ${at}`);
    await tamperEventLog(app, `UPDATE events SET data = '{not json' WHERE position = ${at}`);
    try {
      const run = await arbor(['events', 'verify']);
      expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 3, stderr: '' });
      expect(run.stdout).toMatch(
        new RegExp(
          `^The event log is broken at position ${at} \\(altered\\): Event ${at} cannot be read: its data is not JSON`,
        ),
      );
      const report = await app.call('GET', '/api/v1/events/verify');
      expect({ status: report.status, firstBreak: report.body.firstBreak }).toEqual({
        status: 200,
        firstBreak: expect.objectContaining({ kind: 'altered', position: at }),
      });
    } finally {
      await tamperEventLog(
        app,
        `UPDATE events SET data = '${String(data).replace(/'/g, "''")}' WHERE position = ${at}`,
      );
    }
    expect((await arbor(['events', 'verify'])).code).toBe(0);
  });

  it('names the event after one removed from the files, and exits 3', async () => {
    const root = await createOrg(app, 'Soon missing');
    const { items } = (await app.call('GET', `/api/v1/events?streamId=org-${root.id}`)).body;
    const removed = items[0].position;
    await createOrg(app, 'After it');
    await tamperEventLog(
      app,
      `DELETE FROM event_orgs WHERE position = ${removed}; DELETE FROM events WHERE position = ${removed}`,
    );

    const run = await arbor(['events', 'verify']);
    expect(run.code).toBe(3);
    expect(run.stdout).toMatch(new RegExp(`^The event log is broken at position ${removed + 1} \\(removed\\): `));
    const json = JSON.parse((await arbor(['events', 'verify', '--json'])).stdout);
    expect(json).toMatchObject({
      valid: false,
      events: removed - 1,
      firstBreak: { kind: 'removed', position: removed + 1 },
    });
  });
});
