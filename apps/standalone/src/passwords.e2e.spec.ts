import {
  addNewUser,
  createClient,
  clientToken,
  newLoggedInUser,
  PASSWORD,
  unique,
} from './test-support/access-fixtures';
import { createOrg, startTestApp, type CallOptions, type TestApp } from './test-support/test-app';

/**
 * Passwords (contract section 6): a user changes their own (the current one required, throttled like a
 * login, every other session ended), a platform admin sets anyone's (every session of theirs ended). The log
 * records both as events that hold no secret. Runs in both profiles.
 */
let app: TestApp;
let org: any;
beforeAll(async () => {
  // loopback proxies trusted: each test plays its own source with X-Forwarded-For, so the login throttle's
  // per-source counter of one test never touches another's.
  app = await startTestApp({ trustedProxies: ['loopback'] });
  org = await createOrg(app, 'Password people');
});
afterAll(() => app.close());

const TOKENS = '/api/v1/auth/tokens';
let sources = 0;
const newSource = () => `198.51.100.${++sources}`;

interface Session {
  access_token: string;
  refresh_token: string;
}

async function login(
  email: string,
  password: string,
  source = newSource(),
): Promise<{ status: number; body: any; headers: Headers }> {
  const form = new URLSearchParams({ grant_type: 'password', username: email, password });
  return app.call('POST', TOKENS, {
    token: null,
    rawBody: form.toString(),
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': source },
  });
}

async function session(email: string, password = PASSWORD): Promise<Session> {
  const res = await login(email, password);
  if (res.status !== 200) throw new Error(`login failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

const refresh = (token: string) =>
  app.call('POST', TOKENS, {
    token: null,
    rawBody: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: token }).toString(),
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
  });
const me = (token: string) => app.call('GET', '/api/v1/users/me', { token });
const changeOwn = (token: string, body: unknown, source = newSource(), extra: CallOptions = {}) =>
  app.call('PUT', '/api/v1/users/me/password', { token, body, headers: { 'x-forwarded-for': source }, ...extra });
const setPassword = (userId: string, body: unknown, token?: string) =>
  app.call('PUT', `/api/v1/users/${userId}/password`, { token, body });

async function eventsOf(userId: string): Promise<any[]> {
  const res = await app.call('GET', `/api/v1/events?streamId=user-${userId}`);
  expect(res.status).toBe(200);
  return res.body.items;
}

describe('a user changing their own password', () => {
  it('needs the current one, keeps the session that asked and ends every other', async () => {
    const user = await addNewUser(app, org.id, ['member'], 'changer');
    const here = await session(user.email);
    const elsewhere = await session(user.email);

    const res = await changeOwn(here.access_token, { currentPassword: PASSWORD, newPassword: 'a brand new password' });
    expect(res.status).toBe(204);

    // The asking session lives on: its access token and its refresh token.
    expect((await me(here.access_token)).status).toBe(200);
    const renewed = await refresh(here.refresh_token);
    expect(renewed.status).toBe(200);
    expect((await me(renewed.body.access_token)).status).toBe(200);
    // Every other session ended at once.
    expect((await me(elsewhere.access_token)).status).toBe(401);
    expect(await refresh(elsewhere.refresh_token)).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    // The old password is gone, the new one works.
    expect((await login(user.email, PASSWORD)).body.error).toBe('invalid_grant');
    expect((await login(user.email, 'a brand new password')).status).toBe(200);

    const [event] = (await eventsOf(user.userId)).filter((e) => e.type === 'UserPasswordChanged');
    expect(event).toMatchObject({
      actor: { type: 'user', id: user.userId },
      data: { userId: user.userId, keptSessionId: expect.any(String) },
    });
    expect(JSON.stringify(event)).not.toMatch(/brand new|long enough|scrypt|\$s/);
  });

  it('refuses a wrong current password with 403, counted by the login throttle exactly as a failed login', async () => {
    const user = await newLoggedInUser(app, org.id, ['member'], 'guesser');
    const source = newSource();
    for (let i = 0; i < 5; i++) {
      const wrong = await changeOwn(
        user.token,
        { currentPassword: `not it ${i}`, newPassword: 'whatever it is' },
        source,
      );
      expect(wrong.status).toBe(403);
      expect(wrong.body).toMatchObject({
        code: 'IAM_ERR_CURRENT_PASSWORD_INVALID',
        errors: [{ path: '/body/currentPassword' }],
      });
    }
    // Five failures of this account from this source: the next attempt is refused before any check, the
    // right password included, and so is a login from the same source (the same counters).
    const throttled = await changeOwn(user.token, { currentPassword: PASSWORD, newPassword: 'whatever it is' }, source);
    expect(throttled.status).toBe(429);
    expect(throttled.body.code).toBe('IAM_ERR_RATE_LIMITED');
    expect(Number(throttled.headers.get('retry-after'))).toBeGreaterThan(1);
    const loginThere = await login(user.email, PASSWORD, source);
    expect(loginThere.status).toBe(429);
    expect(loginThere.body.error).toBe('slow_down');
    // Another source is not that pair: the right current password works there.
    expect((await changeOwn(user.token, { currentPassword: PASSWORD, newPassword: 'whatever it is' })).status).toBe(
      204,
    );
  });

  it('counts failed logins against a later change from the same source', async () => {
    const user = await newLoggedInUser(app, org.id, ['member'], 'login-guesser');
    const source = newSource();
    for (let i = 0; i < 5; i++) expect((await login(user.email, `wrong ${i}`, source)).status).toBe(400);
    const res = await changeOwn(user.token, { currentPassword: PASSWORD, newPassword: 'whatever it is' }, source);
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toMatch(/^\d+$/);
  });

  it('applies the rules of adding a user to the new password, and needs both fields', async () => {
    const user = await newLoggedInUser(app, org.id, ['member'], 'weak');
    const weak = await changeOwn(user.token, { currentPassword: PASSWORD, newPassword: 'short' });
    expect(weak.status).toBe(400);
    expect(weak.body.errors).toEqual([expect.objectContaining({ path: '/body/newPassword' })]);
    expect((await changeOwn(user.token, { newPassword: 'long enough new one' })).status).toBe(400);
    expect(
      (await changeOwn(user.token, { currentPassword: PASSWORD, newPassword: 'long enough new one', extra: 1 })).status,
    ).toBe(400);
    // Nothing changed.
    expect((await login(user.email, PASSWORD)).status).toBe(200);
  });

  it('is for users only: a client token gets 404', async () => {
    const client = await createClient(app, org.id, ['users:read']);
    const token = await clientToken(app, client);
    expect(
      (await changeOwn(token, { currentPassword: 'anything at all', newPassword: 'long enough new one' })).status,
    ).toBe(404);
  });
});

describe('a platform admin setting a password', () => {
  it('lets a user added without a password log in at last', async () => {
    const email = `${unique('nopass')}@example.test`;
    const added = await app.call('POST', `/api/v1/orgs/${org.id}/users`, {
      body: { email, name: 'No password', roles: ['member'] },
    });
    expect(added.status).toBe(201);
    expect((await login(email, 'chosen by the admin')).status).toBe(400);

    const res = await setPassword(added.body.userId, { password: 'chosen by the admin' });
    expect(res.status).toBe(204);
    expect((await login(email, 'chosen by the admin')).status).toBe(200);

    const [event] = (await eventsOf(added.body.userId)).filter((e) => e.type === 'UserPasswordSet');
    const admin = await me(app.adminToken);
    expect(event).toMatchObject({ actor: { type: 'user', id: admin.body.id }, data: { userId: added.body.userId } });
    expect(JSON.stringify(event)).not.toMatch(/chosen by/);
  });

  it('ends every session of the user', async () => {
    const user = await addNewUser(app, org.id, ['member'], 'reset');
    const one = await session(user.email);
    const two = await session(user.email);
    expect((await setPassword(user.userId, { password: 'set by the admin' })).status).toBe(204);
    for (const s of [one, two]) {
      expect((await me(s.access_token)).status).toBe(401);
      expect((await refresh(s.refresh_token)).status).toBe(400);
    }
    expect((await login(user.email, PASSWORD)).status).toBe(400);
    expect((await login(user.email, 'set by the admin')).status).toBe(200);
  });

  it('is for platform admins only: others get 403 for a user they see, 404 for one they do not', async () => {
    const orgAdmin = await newLoggedInUser(app, org.id, ['owner'], 'owner');
    const member = await addNewUser(app, org.id, ['member'], 'member');
    const other = await createOrg(app, unique('Elsewhere'));
    const stranger = await addNewUser(app, other.id, ['member'], 'stranger');
    expect((await setPassword(member.userId, { password: 'taken over now' }, orgAdmin.token)).status).toBe(403);
    expect((await setPassword(stranger.userId, { password: 'taken over now' }, orgAdmin.token)).status).toBe(404);
    expect((await setPassword(orgAdmin.id, { password: 'taken over now' }, orgAdmin.token)).status).toBe(403);
    expect((await login(member.email, PASSWORD)).status).toBe(200);
    expect((await setPassword('usr_nobody', { password: 'long enough new one' })).status).toBe(404);
    expect((await setPassword(member.userId, { password: 'short' })).status).toBe(400);
  });
});
