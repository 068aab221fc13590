import Ajv2020 from 'ajv/dist/2020';
import { EVENT_CATALOGUE, EVENT_TYPES, isKnownEventType, type DomainEventType } from '@arbor/domain';
import { PASSWORD, addNewUser, createClient, newLoggedInUser, unique } from './test-support/access-fixtures';
import { createOrg, startTestApp, type TestApp } from './test-support/test-app';

/**
 * The event catalogue against the events the running system writes: a session that makes every event type
 * through the API, then every event of the log (read through the event API) must match its type's schema in
 * the catalogue, and the fields that hold sealed personal data must be exactly those the catalogue names.
 */

/** `v1.<iv>.<ciphertext+tag>` in base64url: how the cipher seals personal data. */
const SEALED = /^v1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/**
 * Types no request writes: the retention purge records RequestMetadataDropped, as the system, once request metadata
 * is past its retention (a day at least). Its schema is checked against the event the real command service writes in
 * request-metadata-drop.int.spec.ts.
 */
const WRITTEN_IN_TIME: DomainEventType[] = ['RequestMetadataDropped'];

let app: TestApp;
const events: Array<{ type: string; data: Record<string, unknown> }> = [];

async function expectCall(
  method: string,
  path: string,
  status: number,
  options: Parameters<TestApp['call']>[2] = {},
): Promise<any> {
  const res = await app.call(method, `/api/v1${path}`, options);
  if (res.status !== status) throw new Error(`${method} ${path}: ${res.status} ${res.text}`);
  return res.body;
}

beforeAll(async () => {
  app = await startTestApp();
  // Organizations: created, renamed, moved, deleted.
  const a = await createOrg(app, unique('Catalogue A'));
  const b = await createOrg(app, unique('Catalogue B'));
  const child = await createOrg(app, unique('Child'), a.id);
  await expectCall('PUT', `/orgs/${child.id}`, 200, { body: { name: unique('Child renamed'), parentId: a.id } });
  await expectCall('PUT', `/orgs/${child.id}`, 200, { body: { name: unique('Child moved'), parentId: b.id } });
  await expectCall('DELETE', `/orgs/${child.id}`, 204);
  // Users and memberships: added (a new user), renamed, roles changed, disabled, enabled, passwords, removed.
  const user = await addNewUser(app, a.id, ['member'], 'catalogue');
  await expectCall('PATCH', `/orgs/${a.id}/users/${user.userId}`, 200, {
    body: { name: 'Renamed Member', roles: ['admin'] },
  });
  await expectCall('PATCH', `/users/${user.userId}`, 200, { body: { status: 'disabled' } });
  await expectCall('PATCH', `/users/${user.userId}`, 200, { body: { status: 'active' } });
  await expectCall('PUT', `/users/${user.userId}/password`, 204, { body: { password: 'set by the platform admin' } });
  const self = await newLoggedInUser(app, b.id, ['member'], 'self-service');
  await expectCall('PUT', '/users/me/password', 204, {
    token: self.token,
    body: { currentPassword: PASSWORD, newPassword: 'changed by its owner' },
  });
  // A pending membership (an admin of B adds an account B cannot see), confirmed by the platform admin.
  const adminB = await newLoggedInUser(app, b.id, ['admin'], 'admin-b');
  const pending = await expectCall('POST', `/orgs/${b.id}/users`, 201, {
    token: adminB.token,
    body: { email: user.email, name: 'Whoever', password: 'not the account password', roles: ['member'] },
  });
  await expectCall('POST', `/orgs/${b.id}/users/${pending.userId}/confirmation`, 200);
  await expectCall('DELETE', `/orgs/${b.id}/users/${pending.userId}`, 204);
  // Client credentials: issued, given roles, and revoked.
  const client = await createClient(app, a.id, ['orgs:read']);
  await expectCall('PATCH', `/oauth2/client-credentials/${client.id}`, 200, { body: { roles: ['member'] } });
  await expectCall('DELETE', `/oauth2/client-credentials/${client.id}`, 204);
  // Custom roles and application permissions (contract section 4.1): defined, changed, deleted.
  await expectCall('POST', `/orgs/${a.id}/permissions`, 201, { body: { name: 'catalogue:check', description: 'x' } });
  await expectCall('PATCH', `/orgs/${a.id}/permissions/catalogue:check`, 200, { body: { description: 'changed' } });
  const role = await expectCall('POST', `/orgs/${a.id}/roles`, 201, {
    body: { name: 'Catalogue role', permissions: ['orgs:read', 'catalogue:check'] },
  });
  await expectCall('PATCH', `/orgs/${a.id}/roles/${role.id}`, 200, { body: { appliesTo: 'organization' } });
  await expectCall('DELETE', `/orgs/${a.id}/roles/${role.id}`, 204);
  await expectCall('DELETE', `/orgs/${a.id}/permissions/catalogue:check`, 204);
  // Erasure (contract section 6): the self-service user's memberships end, then the user is erased.
  await expectCall('DELETE', `/users/${self.id}`, 204);
  // Retention per organization (section 8): an organization shortens how long its request metadata is kept.
  await expectCall('PUT', `/orgs/${a.id}/audit-retention`, 200, { body: { days: 30 } });
  // Webhook subscriptions (contract section 10): created, changed, switched off and on, rotated, replayed, deleted.
  const hook = await expectCall('POST', `/orgs/${a.id}/webhooks`, 201, {
    body: { url: 'https://hooks.example.com/catalogue', eventTypes: ['OrgCreated'] },
  });
  await expectCall('PATCH', `/webhooks/${hook.id}`, 200, { body: { description: 'changed', enabled: false } });
  await expectCall('PATCH', `/webhooks/${hook.id}`, 200, { body: { enabled: true } });
  await expectCall('POST', `/webhooks/${hook.id}/secret/rotate`, 200);
  await expectCall('POST', `/webhooks/${hook.id}/replay`, 202, { body: { fromPosition: 1 } });
  await expectCall('DELETE', `/webhooks/${hook.id}`, 204);

  let cursor: string | null = null;
  do {
    const page = await expectCall(
      'GET',
      `/events?limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
      200,
    );
    events.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor);
});
afterAll(() => app.close());

describe('the event catalogue against the log', () => {
  it('the session wrote every event type the catalogue knows, but those only the server writes in time', () => {
    expect(new Set(events.map((e) => e.type))).toEqual(
      new Set(EVENT_TYPES.filter((type) => !WRITTEN_IN_TIME.includes(type))),
    );
  });

  it('every event written matches its type schema in the catalogue', () => {
    const ajv = new Ajv2020({ allErrors: true, strict: true });
    const validators = new Map(EVENT_TYPES.map((type) => [type, ajv.compile(EVENT_CATALOGUE[type].schema)]));
    const failures = events.flatMap((e) => {
      if (!isKnownEventType(e.type)) return [`${e.type}: not in the catalogue`];
      const validate = validators.get(e.type)!;
      return validate(e.data) ? [] : [`${e.type} ${JSON.stringify(e.data)}: ${ajv.errorsText(validate.errors)}`];
    });
    expect(failures).toEqual([]);
  });

  it('the fields sealed in the log are exactly the personal-data fields the catalogue names', () => {
    const sealedFields = new Map<string, Set<string>>();
    for (const e of events) {
      const fields = sealedFields.get(e.type) ?? new Set<string>();
      for (const [name, value] of Object.entries(e.data))
        if (typeof value === 'string' && SEALED.test(value)) fields.add(name);
      sealedFields.set(e.type, fields);
    }
    const catalogued = (type: DomainEventType): string[] => {
      const fields = (EVENT_CATALOGUE[type] as { personalData?: { sealed: string } }).personalData;
      return fields ? [fields.sealed] : [];
    };
    for (const type of EVENT_TYPES)
      expect({ type, sealed: [...(sealedFields.get(type) ?? [])] }).toEqual({ type, sealed: catalogued(type) });
  });
});
