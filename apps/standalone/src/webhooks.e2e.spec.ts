import { clientToken, createClient, newLoggedInUser, unique } from './test-support/access-fixtures';
import { createOrg, startTestApp, type TestApp } from './test-support/test-app';

/* Contract section 10: webhook subscriptions managed through the API (issue 14 item 6). */

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(() => app.close());

const TARGET = 'https://hooks.example.com/arbor';
const hooks = (orgId: string) => `/api/v1/orgs/${orgId}/webhooks`;
const hook = (id: string) => `/api/v1/webhooks/${id}`;

async function subscribe(orgId: string, body: Record<string, unknown> = {}, token?: string) {
  const res = await app.call('POST', hooks(orgId), { body: { url: TARGET, ...body }, token });
  expect(res.status).toBe(201);
  return res.body;
}

/** Every event of the log about `orgId`'s subtree, as the platform admin reads them (the audited envelope). */
async function eventsOf(orgId: string): Promise<{ text: string; items: any[] }> {
  const res = await app.call('GET', `/api/v1/events?orgId=${orgId}&limit=200`);
  expect(res.status).toBe(200);
  return { text: res.text, items: res.body.items };
}

describe('webhook subscriptions', () => {
  it('are created, listed, read, changed, switched off and on, rotated, replayed and deleted', async () => {
    const org = await createOrg(app, unique('Hooks'));
    const created = await app.call('POST', hooks(org.id), {
      body: { url: TARGET, eventTypes: ['OrgCreated', 'UserAddedToOrg'], description: 'Billing sync' },
    });
    expect(created.status).toBe(201);
    expect(created.headers.get('cache-control')).toBe('no-store');
    const { secret, ...shown } = created.body;
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(shown).toMatchObject({
      orgId: org.id,
      url: TARGET,
      eventTypes: ['OrgCreated', 'UserAddedToOrg'],
      description: 'Billing sync',
      enabled: true,
      disabledReason: null,
      replay: null,
      version: 1,
    });
    expect(created.headers.get('location')).toBe(hook(shown.id));
    const got = await app.call('GET', hook(shown.id));
    expect(got.body).toEqual(shown);
    expect(got.text).not.toContain(secret);
    expect(got.headers.get('etag')).toBe(created.headers.get('etag'));
    const second = await subscribe(org.id);
    expect((await app.call('GET', hooks(org.id))).body.items.map((w: any) => w.id)).toEqual([shown.id, second.id]);
    const paged = await app.call('GET', `${hooks(org.id)}?limit=1`);
    expect(paged.body.items).toHaveLength(1);
    expect((await app.call('GET', `${hooks(org.id)}?limit=1&cursor=${paged.body.nextCursor}`)).body.items[0].id).toBe(
      second.id,
    );

    const changed = await app.call('PATCH', hook(shown.id), {
      body: { url: 'https://hooks.example.com/v2', eventTypes: [] },
    });
    expect(changed.status).toBe(200);
    expect(changed.body).toMatchObject({ url: 'https://hooks.example.com/v2', eventTypes: [], version: 2 });
    const off = await app.call('PATCH', hook(shown.id), { body: { enabled: false } });
    expect(off.body).toMatchObject({ enabled: false, disabledReason: expect.stringMatching(/^disabled by user usr_/) });
    const on = await app.call('PATCH', hook(shown.id), { body: { enabled: true } });
    expect(on.body).toMatchObject({ enabled: true, disabledReason: null, version: 4 });

    const rotationKey = { 'idempotency-key': unique('rotate') };
    const rotated = await app.call('POST', `${hook(shown.id)}/secret/rotate`, { headers: rotationKey });
    expect(rotated.status).toBe(200);
    // A retry with the same key rotates nothing (a second rotation would end the overlap of the receivers' secret):
    // the first answer, without the secret, which is kept nowhere but the vault.
    const retried = await app.call('POST', `${hook(shown.id)}/secret/rotate`, { headers: rotationKey });
    expect(retried.status).toBe(200);
    expect(retried.headers.get('idempotent-replayed')).toBe('true');
    expect(retried.headers.get('cache-control')).toBe('no-store');
    expect(retried.body).toEqual({ id: shown.id, previousSecretExpiresAt: rotated.body.previousSecretExpiresAt });
    expect(rotated.body.secret).toMatch(/^whsec_/);
    expect(rotated.body.secret).not.toBe(secret);
    const expires = Date.parse(rotated.body.previousSecretExpiresAt) - Date.now();
    expect(expires).toBeGreaterThan(23 * 3600_000);
    expect(expires).toBeLessThanOrEqual(24 * 3600_000);
    // The answer's ETag is the subscription's as it now stands (version 5), usable for the next If-Match.
    expect(rotated.headers.get('etag')).toBe((await app.call('GET', hook(shown.id))).headers.get('etag'));
    expect(rotated.headers.get('etag')).toMatch(/^"5-/);

    const replayKey = { 'idempotency-key': unique('replay') };
    const replay = await app.call('POST', `${hook(shown.id)}/replay`, {
      body: { fromPosition: 1 },
      headers: replayKey,
    });
    expect(replay.status).toBe(202);
    const again = await app.call('POST', `${hook(shown.id)}/replay`, { body: { fromPosition: 1 }, headers: replayKey });
    expect([again.status, again.headers.get('idempotent-replayed')]).toEqual([202, 'true']);
    expect(again.body).toEqual(replay.body);
    const otherBody = await app.call('POST', `${hook(shown.id)}/replay`, {
      body: { fromPosition: 2 },
      headers: replayKey,
    });
    expect(otherBody.status).toBe(409);
    expect(replay.body.replay).toEqual({ fromPosition: 1, requestedPosition: expect.any(Number) });
    expect(replay.body.replay.requestedPosition).toBeGreaterThan(shown.createdPosition);

    const stale = await app.call('DELETE', hook(shown.id), { headers: { 'if-match': got.headers.get('etag')! } });
    expect(stale.status).toBe(412);
    expect((await app.call('DELETE', hook(shown.id))).status).toBe(204);
    expect((await app.call('GET', hook(shown.id))).status).toBe(404);
    expect((await app.call('GET', hooks(org.id))).body.items.map((w: any) => w.id)).toEqual([second.id]);

    // The log records each change, and holds no secret, neither the first nor the rotated one.
    const log = await eventsOf(org.id);
    expect(log.items.map((e) => e.type).filter((t) => t.startsWith('Webhook'))).toEqual([
      'WebhookSubscriptionCreated',
      'WebhookSubscriptionCreated',
      'WebhookSubscriptionUpdated',
      'WebhookSubscriptionDisabled',
      'WebhookSubscriptionEnabled',
      'WebhookSecretRotated',
      'WebhookReplayRequested',
      'WebhookSubscriptionDeleted',
    ]);
    for (const s of [secret, rotated.body.secret, second.secret])
      expect(log.text).not.toContain(s.slice('whsec_'.length, 30));
  });

  it('refuses invalid input with field pointers', async () => {
    const org = await createOrg(app, unique('HookRules'));
    const refused = async (body: Record<string, unknown>, pointer: string) => {
      const res = await app.call('POST', hooks(org.id), { body });
      expect(res.status).toBe(400);
      expect(res.body.errors.map((e: any) => e.path)).toContain(pointer);
    };
    await refused({ url: '/relative' }, '/body/url');
    await refused({ url: 'ftp://hooks.example.com/x' }, '/body/url');
    await refused({ url: 'https://user:pass@hooks.example.com/x' }, '/body/url');
    await refused({ url: 'https://hooks.example.com/x#frag' }, '/body/url');
    await refused({ url: `https://hooks.example.com/${'a'.repeat(2048)}` }, '/body/url');
    await refused({ url: TARGET, eventTypes: ['NoSuchEvent'] }, '/body/eventTypes/0');
    await refused({ url: TARGET, eventTypes: ['OrgCreated', 'OrgCreated'] }, '/body/eventTypes/1');
    await refused({ url: TARGET, description: 'x'.repeat(501) }, '/body/description');
    const w = await subscribe(org.id);
    const head = (await app.call('GET', '/api/v1/events?limit=1')).status;
    expect(head).toBe(200);
    const tooFar = await app.call('POST', `${hook(w.id)}/replay`, { body: { fromPosition: 1e12 } });
    expect(tooFar.status).toBe(400);
    expect(tooFar.body.errors[0].path).toBe('/body/fromPosition');
    expect((await app.call('POST', `${hook(w.id)}/replay`, { body: { fromPosition: 0 } })).status).toBe(400);
    expect((await app.call('PATCH', hook(w.id), { body: { url: 'http://x y' } })).status).toBe(400);
  });

  it('refuses targets on loopback, private and link-local addresses unless the operator allows them', async () => {
    const org = await createOrg(app, unique('HookTargets'));
    for (const url of [
      'http://127.0.0.1:8080/hook',
      'http://localhost/hook',
      'https://[::1]/hook',
      'https://10.1.2.3/hook',
      'https://192.168.0.10/hook',
      'http://169.254.169.254/latest/meta-data',
      'https://[::ffff:127.0.0.1]/hook',
      'https://[fd00::1]/hook',
      'https://203.0.113.7/hook',
      'https://[2001:db8::7]/hook',
    ]) {
      const res = await app.call('POST', hooks(org.id), { body: { url } });
      expect({ url, status: res.status, code: res.body.code }).toEqual({
        url,
        status: 400,
        code: 'IAM_ERR_WEBHOOK_TARGET',
      });
    }
    const w = await subscribe(org.id, { url: 'https://93.184.216.34/hook' });
    expect((await app.call('PATCH', hook(w.id), { body: { url: 'http://127.0.0.1/x' } })).body.code).toBe(
      'IAM_ERR_WEBHOOK_TARGET',
    );
    const allowing = await startTestApp({ allowPrivateWebhookTargets: true });
    try {
      const local = await createOrg(allowing, unique('LocalHooks'));
      const res = await allowing.call('POST', hooks(local.id), { body: { url: 'http://127.0.0.1:9/hook' } });
      expect(res.status).toBe(201);
    } finally {
      await allowing.close();
    }
  });

  it('need events:read on the organization: 404 for callers who cannot see it, 403 for those who can', async () => {
    const root = await createOrg(app, unique('HookAccess'));
    const child = await createOrg(app, 'Child', root.id);
    const w = await subscribe(root.id);
    // An owner of the organization sees it but holds no events:read (no role grants it).
    const owner = await newLoggedInUser(app, root.id, ['owner'], 'hook-owner');
    expect((await app.call('GET', hooks(root.id), { token: owner.token })).status).toBe(403);
    expect((await app.call('POST', hooks(root.id), { body: { url: TARGET }, token: owner.token })).status).toBe(403);
    expect((await app.call('GET', hook(w.id), { token: owner.token })).status).toBe(403);
    // A client with events:read manages its own subtree's subscriptions, and sees nothing above or beside it.
    const service = await clientToken(app, await createClient(app, child.id, ['events:read']));
    const own = await subscribe(child.id, {}, service);
    expect((await app.call('GET', hook(own.id), { token: service })).status).toBe(200);
    expect((await app.call('PATCH', hook(own.id), { body: { enabled: false }, token: service })).body).toMatchObject({
      enabled: false,
      disabledReason: expect.stringMatching(/^disabled by client cli_/),
    });
    expect((await app.call('GET', hooks(root.id), { token: service })).status).toBe(404);
    expect((await app.call('POST', hooks(root.id), { body: { url: TARGET }, token: service })).status).toBe(404);
    const hidden = await app.call('GET', hook(w.id), { token: service });
    expect(hidden.status).toBe(404);
    expect(hidden.body.detail).toBe(`Webhook subscription ${w.id} does not exist.`);
    for (const [method, path, body] of [
      ['PATCH', hook(w.id), { enabled: false }],
      ['DELETE', hook(w.id), undefined],
      ['POST', `${hook(w.id)}/secret/rotate`, undefined],
      ['POST', `${hook(w.id)}/replay`, { fromPosition: 1 }],
    ] as const)
      expect({ method, path, status: (await app.call(method, path, { body, token: service })).status }).toEqual({
        method,
        path,
        status: 404,
      });
    expect((await app.call('GET', hook(w.id))).body.enabled).toBe(true);
    expect((await app.call('GET', hook('whk_doesnotexist'))).status).toBe(404);
  });

  it('end with their organization: deleting a tree deletes the subscriptions of its subtree first', async () => {
    const root = await createOrg(app, unique('HookTree'));
    const child = await createOrg(app, 'Child', root.id);
    const onRoot = await subscribe(root.id);
    const onChild = await subscribe(child.id);
    expect((await app.call('DELETE', `/api/v1/orgs/${root.id}?recursive=true`)).status).toBe(204);
    expect((await app.call('GET', hook(onRoot.id))).status).toBe(404);
    expect((await app.call('GET', hook(onChild.id))).status).toBe(404);
    const types = (await app.call('GET', `/api/v1/events?type=WebhookSubscriptionDeleted,OrgDeleted&limit=200`)).body
      .items as any[];
    const ofTree = types.filter((e) => [root.id, child.id].includes(e.data.orgId));
    expect(ofTree.map((e) => [e.type, e.data.subscriptionId ?? e.data.orgId])).toEqual([
      ['WebhookSubscriptionDeleted', onChild.id],
      ['OrgDeleted', child.id],
      ['WebhookSubscriptionDeleted', onRoot.id],
      ['OrgDeleted', root.id],
    ]);
  });
});
