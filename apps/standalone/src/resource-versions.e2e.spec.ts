import { addNewUser, createClient, unique } from './test-support/access-fixtures';
import { createOrg, startTestApp, type TestApp } from './test-support/test-app';

/*
 * Contract section 1: each resource's `version` counts that resource's own changes, starting at 1, whatever
 * route made them; changes of other resources (an ancestor, the member's user) never count.
 */

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(() => app.close());

const versionOf = async (path: string): Promise<number> => {
  const res = await app.call('GET', path);
  expect(res.status).toBe(200);
  return res.body.version;
};

describe('resource versions', () => {
  it("counts an org user's own changes from 1: roles count, the user's name does not, a re-add starts again", async () => {
    const org = await createOrg(app, unique('Versions'));
    const added = await app.call('POST', `/api/v1/orgs/${org.id}/users`, {
      body: {
        email: `${unique('v')}@example.test`,
        name: 'Vera',
        password: 'a long enough password',
        roles: ['member'],
      },
    });
    expect(added.status).toBe(201);
    expect(added.body.version).toBe(1);
    const { userId } = added.body;
    const path = `/api/v1/orgs/${org.id}/users/${userId}`;
    expect(await versionOf(path)).toBe(1);
    expect(await versionOf(`/api/v1/users/${userId}`)).toBe(1);

    // The user's own change, through the users route and through the org-user route alike.
    expect((await app.call('PATCH', `/api/v1/users/${userId}`, { body: { name: 'Vera V.' } })).body.version).toBe(2);
    expect(await versionOf(path)).toBe(1);
    const renamed = await app.call('PATCH', path, { body: { name: 'Vera W.' } });
    expect(renamed.body).toMatchObject({ name: 'Vera W.', version: 1 });
    expect(await versionOf(`/api/v1/users/${userId}`)).toBe(3);

    const promoted = await app.call('PATCH', path, { body: { roles: ['admin'] } });
    expect(promoted.body.version).toBe(2);
    // A membership elsewhere is another resource: it changes neither this one nor the user.
    const other = await createOrg(app, unique('Elsewhere'));
    expect(
      (await app.call('POST', `/api/v1/orgs/${other.id}/users`, { body: { userId, roles: ['member'] } })).body.version,
    ).toBe(1);
    expect(await versionOf(path)).toBe(2);
    expect(await versionOf(`/api/v1/users/${userId}`)).toBe(3);

    // A password set is a change of the account (contract section 1): the user's version, not the membership's.
    const userTag = (await app.call('GET', `/api/v1/users/${userId}`)).headers.get('etag')!;
    const set = await app.call('PUT', `/api/v1/users/${userId}/password`, {
      body: { password: 'another long password' },
    });
    expect(set.status).toBe(204);
    expect(await versionOf(`/api/v1/users/${userId}`)).toBe(4);
    expect(await versionOf(path)).toBe(2);
    const stale = await app.call('PATCH', `/api/v1/users/${userId}`, {
      body: { name: 'Vera X.' },
      headers: { 'if-match': userTag },
    });
    expect(stale.status).toBe(412);

    expect((await app.call('DELETE', path)).status).toBe(204);
    const again = await app.call('POST', `/api/v1/orgs/${org.id}/users`, { body: { userId, roles: ['member'] } });
    expect(again.status).toBe(201);
    expect(again.body.version).toBe(1);
    expect(await versionOf(path)).toBe(1);
  });

  it("leaves an organization's version alone when an ancestor moves, and counts its own changes", async () => {
    const root = await createOrg(app, unique('VRoot'));
    const a = await createOrg(app, 'A', root.id);
    const b = await createOrg(app, 'B', root.id);
    const c = await createOrg(app, 'C', a.id);
    expect((await app.call('PUT', `/api/v1/orgs/${a.id}`, { body: { name: 'A', parentId: b.id } })).body.version).toBe(
      2,
    );
    expect(await versionOf(`/api/v1/orgs/${c.id}`)).toBe(1);
    expect(await versionOf(`/api/v1/orgs/${root.id}`)).toBe(1);
  });

  it('gives every client credential representation a version, 1 as issued', async () => {
    const org = await createOrg(app, unique('VClients'));
    const client = await createClient(app, org.id, ['orgs:read']);
    expect(client.version).toBe(1);
    const list = await app.call('GET', `/api/v1/oauth2/client-credentials?orgId=${org.id}`);
    expect(list.body.items).toEqual([expect.objectContaining({ id: client.id, version: 1 })]);
  });

  it('keeps the versions when the read models are rebuilt from the log', async () => {
    const org = await createOrg(app, unique('VRebuild'));
    const { userId } = await addNewUser(app, org.id, ['member'], 'rebuilt');
    const path = `/api/v1/orgs/${org.id}/users/${userId}`;
    await app.call('PATCH', path, { body: { roles: ['admin'] } });
    await app.call('DELETE', path);
    await app.call('POST', `/api/v1/orgs/${org.id}/users`, { body: { userId, roles: ['member'] } });
    await app.call('PATCH', path, { body: { roles: ['admin'] } });
    const before = await app.call('GET', path);
    expect(before.body.version).toBe(2);
    await app.rebuildReadModels();
    const after = await app.call('GET', path);
    expect(after.body).toEqual(before.body);
    expect(after.headers.get('etag')).toBe(before.headers.get('etag'));
    // The command side counts the same: the ETag read now is the one a write must name.
    expect(
      (
        await app.call('PATCH', path, {
          body: { roles: ['member'] },
          headers: { 'if-match': after.headers.get('etag')! },
        })
      ).status,
    ).toBe(200);
  });
});
