import Ajv2020 from 'ajv/dist/2020';
import type { DomainEvent, DomainEventType, EventDataByType } from '../events';
import { newId } from '../ids';
import { decideCreateOrg, decideDeleteOrg, decideReplaceOrg } from '../org-decisions';
import { OrgTree } from '../org-tree';
import {
  EVENT_CATALOGUE,
  EVENT_TYPES,
  eventOrgPath,
  eventSchemaId,
  field,
  isPersonalEvent,
  sealedPersonalDataOf,
  upcastStoredEvent,
} from '.';

const org = () => newId('org');
const usr = newId('usr');
const sealed = 'v1.AAECAwQFBgcICQoL.c2VhbGVkLWNpcGhlcnRleHQtYW5kLXRhZw';

/** One event of every type as the deciders write them; typed, so a new type must add its sample. */
const SAMPLES = {
  OrgCreated: { orgId: org(), name: 'Acme', parentId: null, description: null, metadata: {} },
  OrgUpdated: { orgId: org(), name: 'Acme EU', description: 'Europe', metadata: { region: 'eu' } },
  OrgMoved: { orgId: org(), fromParentId: org(), toParentId: null },
  OrgDeleted: { orgId: org(), parentId: org() },
  UserCreated: { userId: usr, personal: sealed, platformAdmin: false },
  UserUpdated: { userId: usr, personal: sealed },
  UserDisabled: { userId: usr },
  UserEnabled: { userId: usr },
  UserPasswordChanged: { userId: usr, keptSessionId: newId('ses') },
  UserPasswordSet: { userId: usr },
  UserErased: { userId: usr },
  UserAddedToOrg: { orgId: org(), userId: usr, roles: ['member'], pending: true },
  MembershipConfirmed: { orgId: org(), userId: usr },
  OrgUserUpdated: { orgId: org(), userId: usr, roles: ['admin', 'owner'] },
  UserRemovedFromOrg: { orgId: org(), userId: usr },
  ClientCredentialIssued: {
    clientCredentialId: newId('cc'),
    clientId: newId('cli'),
    name: 'CI',
    orgId: org(),
    scopes: ['orgs:read'],
    roles: ['admin'],
  },
  ClientCredentialRolesChanged: {
    clientCredentialId: newId('cc'),
    clientId: newId('cli'),
    orgId: org(),
    roles: ['member', 'role_01hzz0000000000000000000ab'],
  },
  ClientCredentialRevoked: { clientCredentialId: newId('cc'), clientId: newId('cli'), orgId: org() },
  ApplicationPermissionDefined: { orgId: org(), name: 'billing:invoices:approve', description: 'Approve invoices' },
  ApplicationPermissionUpdated: { orgId: org(), name: 'billing:invoices:approve', description: 'Approve' },
  ApplicationPermissionDeleted: { orgId: org(), name: 'billing:invoices:approve' },
  RoleDefined: {
    roleId: newId('role'),
    orgId: org(),
    name: 'Billing clerk',
    description: '',
    permissions: ['orgs:read', 'billing:invoices:approve'],
    appliesTo: 'organization',
  },
  RoleUpdated: {
    roleId: newId('role'),
    orgId: org(),
    name: 'Billing',
    description: 'd',
    permissions: [],
    appliesTo: 'subtree',
  },
  RoleDeleted: { roleId: newId('role'), orgId: org() },
  OrgAuditRetentionSet: { orgId: org(), days: 30 },
  RequestMetadataDropped: { before: '2026-01-01T00:00:00.000Z', orgId: org() },
  WebhookSubscriptionCreated: webhook({
    url: 'https://hooks.example.com/arbor',
    eventTypes: ['OrgCreated'],
    description: '',
  }),
  WebhookSubscriptionUpdated: webhook({
    url: 'https://hooks.example.com/v2',
    eventTypes: [],
    description: 'All events',
  }),
  WebhookSecretRotated: webhook({ previousSecretExpiresAt: '2026-01-02T00:00:00.000Z' }),
  WebhookSubscriptionDisabled: webhook({ reason: 'disabled by user usr_x' }),
  WebhookSubscriptionEnabled: webhook({}),
  WebhookReplayRequested: webhook({ fromPosition: 1 }),
  WebhookSubscriptionDeleted: webhook({}),
} satisfies { [K in DomainEventType]: EventDataByType[K] };

function webhook<T extends object>(rest: T): { subscriptionId: string; orgId: string } & T {
  return { subscriptionId: newId('whk'), orgId: org(), ...rest };
}

const ajv = new Ajv2020({ allErrors: true, strict: true });
const validators = new Map(EVENT_TYPES.map((type) => [type, ajv.compile(EVENT_CATALOGUE[type].schema)]));
const valid = (type: DomainEventType, data: unknown): boolean => validators.get(type)!(data);

describe('the event schemas', () => {
  it('name their type and version in their $id, and every type is at version 1 until the stores record versions', () => {
    // The stores keep no schema version (every row reads as version 1): a type at version 2 needs that first.
    for (const type of EVENT_TYPES) {
      expect(EVENT_CATALOGUE[type].version).toBe(1);
      expect(EVENT_CATALOGUE[type].schema.$id).toBe(`https://arbor.dev/schemas/events/${type}/v1.json`);
      expect(eventSchemaId(type, 1)).toBe(EVENT_CATALOGUE[type].schema.$id);
    }
  });

  it.each(EVENT_TYPES)('%s: accepts what the deciders write', (type) => {
    expect(valid(type, SAMPLES[type])).toBe(true);
  });

  it('accept the events the organization deciders produce', () => {
    const tree = new OrgTree();
    const [a, b, c] = [org(), org(), org()];
    const events: DomainEvent[] = [];
    const commit = (decided: DomainEvent[]) => {
      for (const e of decided) {
        events.push(e);
        tree.apply({
          id: 'e',
          type: e.type,
          streamId: e.streamId,
          streamVersion: 1,
          position: tree.position + 1,
          occurredAt: '',
          actor: { type: 'system', id: 't' },
          data: e.data,
          orgPath: [],
        });
      }
    };
    commit(decideCreateOrg(tree, { orgId: a, name: 'A', parentId: null }));
    commit(decideCreateOrg(tree, { orgId: b, name: 'B', parentId: null, description: 'b', metadata: { k: 1 } }));
    commit(decideCreateOrg(tree, { orgId: c, name: 'C', parentId: a }));
    commit(decideReplaceOrg(tree, { orgId: c, name: 'C2', parentId: b }));
    commit(decideDeleteOrg(tree, { orgId: c, recursive: false }));
    expect(new Set(events.map((e) => e.type))).toEqual(new Set(['OrgCreated', 'OrgMoved', 'OrgUpdated', 'OrgDeleted']));
    for (const e of events)
      expect({ type: e.type, valid: valid(e.type, e.data) }).toEqual({ type: e.type, valid: true });
  });

  it.each(EVENT_TYPES)('%s: rejects a missing field, an unknown field and a wrong type', (type) => {
    const sample: Record<string, unknown> = SAMPLES[type];
    const [first] = Object.keys(sample);
    const { [first]: _dropped, ...missing } = sample;
    expect(valid(type, missing)).toBe(false);
    expect(valid(type, { ...sample, email: 'someone@example.test' })).toBe(false);
    expect(valid(type, { ...sample, [first]: 42 })).toBe(false);
    expect(valid(type, null)).toBe(false);
  });

  it('reject ids of the wrong kind, an empty role list and personal data in clear', () => {
    expect(valid('OrgCreated', { ...SAMPLES.OrgCreated, orgId: usr })).toBe(false);
    expect(valid('OrgUserUpdated', { ...SAMPLES.OrgUserUpdated, roles: [] })).toBe(false);
    expect(valid('UserUpdated', { ...SAMPLES.UserUpdated, personal: '{"email":"a@b.c","name":"A"}' })).toBe(false);
  });
});

describe('personal data in the catalogue', () => {
  it('is named only where the schema holds a sealed record, and every sealed field of a schema is named', () => {
    for (const type of EVENT_TYPES) {
      const properties = EVENT_CATALOGUE[type].schema.properties as Record<string, unknown>;
      const sealedFields = Object.keys(properties).filter((name) => properties[name] === field.sealedPersonalData);
      const named = (EVENT_CATALOGUE[type] as { personalData?: { sealed: string; subject: string } }).personalData;
      expect({ type, sealed: sealedFields }).toEqual({ type, sealed: named ? [named.sealed] : [] });
      if (named) expect(properties[named.subject]).toBe(field.userId);
    }
  });

  it('is read from the catalogue: the sealed record and its subject, for personal events only', () => {
    const stored = (type: DomainEventType) => ({
      id: 'e',
      type,
      streamId: 's',
      streamVersion: 1,
      position: 1,
      occurredAt: '',
      actor: { type: 'system' as const, id: 't' },
      data: SAMPLES[type],
      orgPath: [],
    });
    expect(EVENT_TYPES.filter((type) => isPersonalEvent(stored(type)))).toEqual(['UserCreated', 'UserUpdated']);
    expect(sealedPersonalDataOf(stored('UserUpdated'))).toEqual({ subjectId: usr, sealed });
    expect(sealedPersonalDataOf(stored('UserDisabled'))).toBeUndefined();
    expect(sealedPersonalDataOf({ ...stored('UserCreated'), type: 'SomethingNewer' })).toBeUndefined();
  });
});

describe('organization paths from the catalogue', () => {
  it('place each event in the tree as it stands before the event', () => {
    const tree = new OrgTree();
    const [a, b] = [org(), org()];
    tree.apply({
      id: '1',
      type: 'OrgCreated',
      streamId: 'o',
      streamVersion: 1,
      position: 1,
      occurredAt: '',
      actor: { type: 'system', id: 't' },
      data: { orgId: a, name: 'A', parentId: null, description: null, metadata: {} },
      orgPath: [],
    });
    tree.apply({
      id: '2',
      type: 'OrgCreated',
      streamId: 'o',
      streamVersion: 1,
      position: 2,
      occurredAt: '',
      actor: { type: 'system', id: 't' },
      data: { orgId: b, name: 'B', parentId: a, description: null, metadata: {} },
      orgPath: [],
    });
    const path = (type: DomainEventType, data: object) =>
      eventOrgPath(tree, { type, streamId: 's', data } as DomainEvent);
    expect(path('OrgCreated', { ...SAMPLES.OrgCreated, orgId: 'n', parentId: b })).toEqual([a, b, 'n']);
    expect(path('OrgCreated', { ...SAMPLES.OrgCreated, orgId: 'n', parentId: null })).toEqual(['n']);
    // A move: its new path, then the former ancestors it left (both subtrees hear of it).
    expect(path('OrgMoved', { orgId: b, fromParentId: a, toParentId: null })).toEqual([b, a]);
    expect(path('OrgMoved', { orgId: 'n', fromParentId: b, toParentId: a })).toEqual([a, 'n', b]);
    expect(path('OrgMoved', { orgId: 'n', fromParentId: null, toParentId: b })).toEqual([a, b, 'n']);
    expect(path('OrgUpdated', { ...SAMPLES.OrgUpdated, orgId: b })).toEqual([a, b]);
    expect(path('ClientCredentialRevoked', { ...SAMPLES.ClientCredentialRevoked, orgId: b })).toEqual([a, b]);
    expect(path('UserAddedToOrg', { ...SAMPLES.UserAddedToOrg, orgId: a })).toEqual([a]);
    expect(path('UserCreated', SAMPLES.UserCreated)).toEqual([]);
  });
});

describe('upcasting stored events', () => {
  it('passes every event of today (version 1) and unknown types through unchanged, as the same object', () => {
    const event = {
      id: 'e',
      type: 'OrgDeleted',
      streamId: 's',
      streamVersion: 1,
      position: 1,
      occurredAt: '',
      actor: { type: 'system' as const, id: 't' },
      data: SAMPLES.OrgDeleted,
      orgPath: [],
    };
    expect(upcastStoredEvent(event)).toBe(event);
    const unknown = { ...event, type: 'SomethingNewer' };
    expect(upcastStoredEvent(unknown, 7)).toBe(unknown);
  });
});
