import { PASSWORD, unique } from './test-support/access-fixtures';
import { createOrg, passwordToken, startTestApp, type TestApp } from './test-support/test-app';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(() => app.close());

/** A user with a name and email no other test uses, a member of two organizations (one pending), logged in. */
async function member(): Promise<{ id: string; email: string; name: string; token: string; orgs: string[] }> {
  const root = await createOrg(app, unique('Erasure root'));
  const other = await createOrg(app, unique('Erasure other'));
  const name = unique('Zebulon Quixote');
  const email = `${unique('zq')}@erasure.example`.toLowerCase();
  const added = await app.call('POST', `/api/v1/orgs/${root.id}/users`, {
    body: { email, name, password: PASSWORD, roles: ['member'] },
    headers: { 'Idempotency-Key': unique('erase-key') },
  });
  expect(added.status).toBe(201);
  const id = added.body.userId;
  expect(
    (await app.call('POST', `/api/v1/orgs/${other.id}/users`, { body: { userId: id, roles: ['admin'] } })).status,
  ).toBe(201);
  return { id, email, name, token: await passwordToken(app, email, PASSWORD), orgs: [root.id, other.id] };
}

describe('erasure (DELETE /api/v1/users/{userId})', () => {
  it('ends memberships and sessions, and the user reads as erased everywhere, rebuilt read models included', async () => {
    const user = await member();
    // A question about the past (contract section 8: the memberships and each user's status of then).
    const question = {
      subject: { type: 'user', id: user.id },
      action: { name: 'orgs:read' },
      resource: { type: 'organization', id: user.orgs[0] },
    };
    const now = await app.call('POST', '/access/v1/evaluation', { body: question });
    expect(now.body.decision).toBe(true);
    const then = now.body.context.position as number;
    const asked = async () =>
      (await app.call('POST', `/access/v1/evaluation?asOfPosition=${then}`, { body: question })).body.decision;
    const erased = await app.call('DELETE', `/api/v1/users/${user.id}`);
    expect(erased.status).toBe(204);

    expect((await app.call('GET', `/api/v1/users/${user.id}`)).body).toMatchObject({ id: user.id, status: 'erased' });
    const { email, name } = (await app.call('GET', `/api/v1/users/${user.id}`)).body;
    expect([email ?? null, name ?? null]).toEqual([null, null]);
    expect((await app.call('GET', `/api/v1/users/${user.id}/orgs`)).body.items).toEqual([]);
    for (const orgId of user.orgs) {
      const members = (await app.call('GET', `/api/v1/orgs/${orgId}/users`)).body.items;
      expect(members.map((m: any) => m.userId)).not.toContain(user.id);
    }
    expect((await app.call('GET', '/api/v1/users/me', { token: user.token })).status).toBe(401);
    await expect(passwordToken(app, user.email, PASSWORD)).rejects.toThrow();

    // The history stays, with the memberships ended and the erasure told to subscribers; the chain verifies.
    const history = (await app.call('GET', `/api/v1/events?streamId=user-${user.id}`)).body.items;
    expect(history.map((e: any) => e.type)).toEqual(['UserCreated', 'UserErased']);
    const removals = (await app.call('GET', '/api/v1/events?type=UserRemovedFromOrg&limit=200')).body.items;
    expect(
      removals
        .filter((e: any) => e.data.userId === user.id)
        .map((e: any) => e.data.orgId)
        .sort(),
    ).toEqual([...user.orgs].sort());
    expect((await app.call('GET', '/api/v1/events/verify')).body).toMatchObject({ valid: true });

    // The past is the log's: the same answer before and after a rebuild, which reads the user's events with their
    // key gone (a rebuild once read the user as erased from their creation on).
    expect(await asked()).toBe(true);
    await app.rebuildReadModels();
    expect(await asked()).toBe(true);
    expect((await app.call('GET', `/api/v1/users/${user.id}`)).body).toEqual(
      expect.objectContaining({ id: user.id, status: 'erased' }),
    );
    const list = await app.call('GET', '/api/v1/users?limit=200');
    expect(list.status).toBe(200);
    expect(list.body.items.find((u: { id: string }) => u.id === user.id)).toMatchObject({
      status: 'erased',
      email: null,
    });
    const everyone = JSON.stringify(list.body);
    expect(everyone).not.toContain(user.email);
    expect(everyone).not.toContain(user.name);
  });

  it('is for platform admins, refuses the last one who can sign in, and a user erased already is a 404', async () => {
    const user = await member();
    expect((await app.call('DELETE', `/api/v1/users/${user.id}`, { token: user.token })).status).toBe(403);
    const admin = (await app.call('GET', '/api/v1/users/me')).body;
    const self = await app.call('DELETE', `/api/v1/users/${admin.id}`);
    expect([self.status, self.body.detail]).toEqual([403, expect.stringContaining('last platform admin')]);
    expect((await app.call('DELETE', `/api/v1/users/${user.id}`)).status).toBe(204);
    expect((await app.call('DELETE', `/api/v1/users/${user.id}`)).status).toBe(404);
    expect((await app.call('DELETE', `/api/v1/users/usr_unknown0000000000000000`)).status).toBe(404);
  });
});
