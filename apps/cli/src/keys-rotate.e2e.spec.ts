import { runArbor } from './run-arbor.test-support';
import {
  ADMIN_EMAIL,
  ADMIN_PASSWORD,
  passwordToken,
  startTestApp,
  type TestApp,
} from '../../standalone/src/test-support/test-app';

/** `arbor keys rotate` beside a running embedded server: published at once, signing later or now, old keys kept. */

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(() => app.close());

const arbor = (args: string[], env: Record<string, string> = {}) =>
  runArbor(args, { IAM_DATA_DIR: app.dataDir, ...env });

const kidOf = (jws: string): string => JSON.parse(Buffer.from(jws.split('.')[0], 'base64url').toString()).kid;
const jwksKids = async (): Promise<string[]> =>
  (await app.call('GET', '/.well-known/jwks.json', { token: null })).body.keys.map((k: any) => k.kid);

describe('arbor keys rotate', () => {
  it('publishes the next key at once, signs with it later (or now with --now), and keeps verifying the old', async () => {
    const oldToken = await passwordToken(app, ADMIN_EMAIL, ADMIN_PASSWORD);
    const [oldKid] = await jwksKids();

    const scheduled = await arbor(['keys', 'rotate']);
    expect(scheduled.code).toBe(0);
    const waiting = /New signing key (\S+): in the JWKS within a minute, signing from (\S+) \(2 keys/.exec(
      scheduled.stdout,
    );
    expect(waiting).not.toBeNull();
    expect(Date.parse(waiting![2]) - Date.now()).toBeGreaterThan(9 * 60_000);
    expect(await jwksKids()).toEqual([oldKid, waiting![1]]);
    expect(kidOf(await passwordToken(app, ADMIN_EMAIL, ADMIN_PASSWORD))).toBe(oldKid);

    const urgent = await arbor(['keys', 'rotate', '--now']);
    expect(urgent.code).toBe(0);
    const now = /New signing key (\S+):/.exec(urgent.stdout)![1];
    expect(await jwksKids()).toEqual([oldKid, now, waiting![1]]);
    const newToken = await passwordToken(app, ADMIN_EMAIL, ADMIN_PASSWORD);
    expect(kidOf(newToken)).toBe(now);
    // Both verify: the old key stays for what it signed.
    expect((await app.call('GET', '/api/v1/users/me', { token: oldToken })).status).toBe(200);
    expect((await app.call('GET', '/api/v1/users/me', { token: newToken })).status).toBe(200);
    // The log's signed head names the key that signs now.
    expect(kidOf((await app.call('GET', '/api/v1/events/verify')).body.signedHead)).toBe(now);
  });

  it('revokes a key that may have leaked: gone from the JWKS, its tokens refused; never the key that signs now', async () => {
    const current = (await arbor(['keys', 'rotate', '--now'])).stdout.match(/New signing key (\S+):/)![1];
    await jwksKids();
    const leaked = await passwordToken(app, ADMIN_EMAIL, ADMIN_PASSWORD);
    expect(kidOf(leaked)).toBe(current);
    const refused = await arbor(['keys', 'revoke', current]);
    expect([refused.code, refused.stderr]).toEqual([1, expect.stringContaining('signs now: rotate with --now first')]);

    const next = (await arbor(['keys', 'rotate', '--now'])).stdout.match(/New signing key (\S+):/)![1];
    const revoked = await arbor(['keys', 'revoke', current]);
    expect([revoked.code, revoked.stdout]).toEqual([0, expect.stringContaining(`Revoked signing key ${current}`)]);
    const kids = await jwksKids();
    expect(kids).toContain(next);
    expect(kids).not.toContain(current);
    expect((await app.call('GET', '/api/v1/users/me', { token: leaked })).status).toBe(401);
    expect((await arbor(['keys', 'revoke', current])).code).toBe(1);
    expect((await arbor(['keys', 'revoke'])).code).toBe(1);
    // One kid in 64 begins with `-`: it is looked up as a kid (here none has it), not refused as an option.
    const dashed = `-${'A'.repeat(42)}`;
    for (const args of [
      ['keys', 'revoke', dashed],
      ['keys', 'revoke', '--', dashed],
    ]) {
      const unknown = await arbor(args);
      expect([unknown.code, unknown.stderr]).toEqual([
        1,
        expect.stringContaining(`No signing key has the kid ${dashed}`),
      ]);
    }
    expect((await arbor(['keys', 'revoke', '--now'])).stderr).toContain('Usage: arbor keys revoke');
  });

  it('refuses an unknown option and a directory without keys (exit 1)', async () => {
    expect((await arbor(['keys', 'rotate', '--soon'])).code).toBe(1);
    const twice = await arbor(['keys', 'rotate', '--now', '--now']);
    expect([twice.code, twice.stderr]).toEqual([1, expect.stringContaining('--now may be given once')]);
    const none = await arbor(['keys', 'rotate'], { IAM_DATA_DIR: '/nonexistent-arbor' });
    expect([none.code, none.stderr]).toEqual([1, expect.stringContaining('No signing keys in /nonexistent-arbor')]);
  });
});
