import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { queryEventLog } from '../../standalone/src/test-support/tamper-event-log';
import { runArbor } from './run-arbor.test-support';
import {
  ADMIN_EMAIL,
  ADMIN_PASSWORD,
  createOrg,
  passwordToken,
  startTestApp,
  type TestApp,
} from '../../standalone/src/test-support/test-app';

/**
 * A signing key revoked after it signed checkpoints of the log (`arbor keys revoke`): its checkpoints are no evidence
 * any more (they could have been forged with it), but the log still verifies, a signed head is still issued, and the
 * server goes on signing checkpoints with the current key, after a restart too.
 */

let app: TestApp;
let dir: string;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'arbor-revoke-'));
  // A checkpoint each second while the log grows.
  app = await startTestApp({ logCheckpointSeconds: 1 });
});
afterAll(async () => {
  await app.close();
  rmSync(dir, { recursive: true, force: true });
});

const arbor = (args: string[]) => runArbor(args, { IAM_DATA_DIR: app.dataDir });
const kidOf = (jws: string): string => JSON.parse(Buffer.from(jws.split('.')[0], 'base64url').toString()).kid;

/** Waits (up to 10 s) for the server's checkpoint at `position`, and returns the kid that signed it. */
async function checkpointAt(position: number): Promise<string> {
  for (let tries = 0; tries < 100; tries++) {
    const rows = await queryEventLog(app, `SELECT jws FROM chain_checkpoints WHERE position = ${position}`);
    if (rows.length > 0) return kidOf(String(rows[0].jws));
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no checkpoint at ${position} after 10 s`);
}

async function headAfterCreating(name: string): Promise<number> {
  const org = await createOrg(app, name);
  return (await app.call('GET', `/api/v1/events?streamId=org-${org.id}`)).body.items[0].position;
}

it("skips the revoked key's checkpoints, still signs the head, and goes on checkpointing after a restart", async () => {
  const headOfLeaked = (await app.call('GET', '/api/v1/events/verify')).body.signedHead;
  const leaked = kidOf(headOfLeaked);
  expect(await checkpointAt(await headAfterCreating('Signed by the key that leaks'))).toBe(leaked);

  const rotated = await arbor(['keys', 'rotate', '--now']);
  const current = /New signing key (\S+):/.exec(rotated.stdout)![1];
  expect((await arbor(['keys', 'revoke', leaked])).code).toBe(0);
  // The admin's token was signed by the revoked key too.
  app.adminToken = await passwordToken(app, ADMIN_EMAIL, ADMIN_PASSWORD);

  const report = (await app.call('GET', '/api/v1/events/verify')).body;
  expect(report).toMatchObject({ valid: true, checkpoints: 0, uncheckedCheckpoints: expect.any(Number) });
  expect(report.uncheckedCheckpoints).toBeGreaterThan(0);
  expect(report.firstBreak).toBeUndefined();
  expect(kidOf(report.signedHead)).toBe(current);

  // Restarted before any checkpoint of the current key: the last stored one is the revoked key's.
  await app.close();
  app = await startTestApp({ dataDir: app.dataDir, logCheckpointSeconds: 1 });
  expect(await checkpointAt(await headAfterCreating('After the revocation'))).toBe(current);
  const after = (await app.call('GET', '/api/v1/events/verify')).body;
  expect(after).toMatchObject({ valid: true, checkpoints: 1, uncheckedCheckpoints: report.uncheckedCheckpoints });

  // Offline, with the JWKS as it is now: the same, said in the sentence too.
  writeFileSync(join(dir, 'jwks.json'), (await app.call('GET', '/.well-known/jwks.json', { token: null })).text);
  const exported = await arbor(['events', 'export', '--chain', '--until-position', String(after.head.position)]);
  writeFileSync(join(dir, 'log.ndjson'), exported.stdout);
  const offline = ['events', 'verify', '--file', join(dir, 'log.ndjson'), '--jwks', join(dir, 'jwks.json')];
  const json = await arbor([...offline, '--signed-head', after.signedHead, '--json']);
  expect([json.code, JSON.parse(json.stdout)]).toEqual([
    0,
    expect.objectContaining({ valid: true, checkpoints: 1, uncheckedCheckpoints: report.uncheckedCheckpoints }),
  ]);
  const plain = await arbor(offline);
  expect([plain.code, plain.stdout]).toEqual([
    0,
    expect.stringContaining(
      `1 signed checkpoints (and ${report.uncheckedCheckpoints} signed by keys the key set does not hold, not checked`,
    ),
  ]);
  // Restored, the log keeps only the checkpoints a key of the set verifies: the revoked key's are left out.
  const target = join(dir, 'restored');
  const restored = await runArbor(
    ['restore', '--file', join(dir, 'log.ndjson'), '--jwks', join(dir, 'jwks.json'), '--signed-head', after.signedHead],
    { IAM_DATA_DIR: target },
  );
  expect([restored.code, restored.stdout]).toEqual([
    0,
    expect.stringContaining(`${report.uncheckedCheckpoints} signed checkpoints of the export were left out`),
  ]);
  const log = new Database(join(target, 'events.sqlite'), { readonly: true });
  try {
    const kids = log.prepare('SELECT jws FROM chain_checkpoints').all() as Array<{ jws: string }>;
    expect(kids.map((c) => kidOf(c.jws))).toEqual([current]);
  } finally {
    log.close();
  }
  // A head the revoked key signed proves nothing any more: refused, not skipped.
  const old = await arbor([...offline, '--signed-head', headOfLeaked]);
  expect([old.code, old.stderr]).toEqual([1, expect.stringContaining(`No key of the JWKS has the kid ${leaked}`)]);
});
