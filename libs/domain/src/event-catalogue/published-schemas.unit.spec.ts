import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  EVENT_CATALOGUE,
  EVENT_TYPES,
  cloudEventTypeOf,
  eventDataSchemaOf,
  eventEnvelopeSchemaId,
  eventEnvelopeSchemaOf,
  eventAuditedEnvelopeSchemaOf,
} from './index';

/** docs/events/schemas, where `npm run events:schemas` publishes the catalogue's schemas. */
const PUBLISHED = resolve(__dirname, '../../../../docs/events/schemas');

const envelope = (type: string, data: unknown) => ({
  id: '6f1c1d8e-0000-4000-8000-000000000001',
  type,
  streamId: 'org-org_1',
  streamVersion: 1,
  position: 7,
  occurredAt: '2026-12-01T12:00:00.000Z',
  actor: { type: 'user', id: 'usr_1' },
  data,
});

describe('the published event schemas', () => {
  it('are in docs/events/schemas exactly as the catalogue says (npm run events:schemas writes them)', () => {
    const stale: string[] = [];
    for (const type of EVENT_TYPES) {
      const version = EVENT_CATALOGUE[type].version;
      for (const [name, schema] of [
        [`${type}/v${version}.json`, eventDataSchemaOf(type)],
        [`${type}/v${version}.envelope.json`, eventEnvelopeSchemaOf(type)],
        [`${type}/v${version}.audited.json`, eventAuditedEnvelopeSchemaOf(type)],
      ] as const) {
        const path = join(PUBLISHED, name);
        if (!existsSync(path) || readFileSync(path, 'utf8') !== `${JSON.stringify(schema, null, 2)}\n`)
          stale.push(name);
      }
    }
    expect(stale).toEqual([]);
    // Nothing published for a type the catalogue does not have.
    expect(readdirSync(PUBLISHED).filter((dir) => !(EVENT_TYPES as string[]).includes(dir))).toEqual([]);
  });

  it('envelopes: the whole event, typed, its data by reference to the data schema', () => {
    const ajv = addFormats(new Ajv2020({ allErrors: true, strict: true }));
    for (const type of EVENT_TYPES) ajv.addSchema(eventDataSchemaOf(type));
    const validate = ajv.compile(eventEnvelopeSchemaOf('OrgDeleted'));
    const data = { orgId: 'org_1', parentId: null };
    expect(validate(envelope('OrgDeleted', data))).toBe(true);
    expect(eventEnvelopeSchemaOf('OrgDeleted').$id).toBe(eventEnvelopeSchemaId('OrgDeleted', 1));
    expect(eventEnvelopeSchemaId('OrgDeleted', 1)).toBe('https://arbor.dev/schemas/events/OrgDeleted/v1.envelope.json');
    // Another type's event, data breaking its schema, a missing or extra member, a bad actor or time: refused.
    expect(validate(envelope('OrgCreated', data))).toBe(false);
    expect(validate(envelope('OrgDeleted', { orgId: 'org_1' }))).toBe(false);
    const { position: _omitted, ...withoutPosition } = envelope('OrgDeleted', data);
    expect(validate(withoutPosition)).toBe(false);
    expect(validate({ ...envelope('OrgDeleted', data), orgPath: [] })).toBe(false);
    expect(validate({ ...envelope('OrgDeleted', data), actor: { type: 'robot', id: 'x' } })).toBe(false);
    expect(validate({ ...envelope('OrgDeleted', data), occurredAt: 'yesterday' })).toBe(false);
    expect(validate({ ...envelope('OrgDeleted', data), position: 0 })).toBe(false);
  });

  it('audited envelopes: the envelope and, beside it, the audit data the event API shows platform admins', () => {
    const ajv = addFormats(new Ajv2020({ allErrors: true, strict: true }));
    for (const type of EVENT_TYPES) ajv.addSchema(eventDataSchemaOf(type));
    const validate = ajv.compile(eventAuditedEnvelopeSchemaOf('OrgUpdated'));
    const data = { orgId: 'org_1', name: 'B', description: null, metadata: {} };
    const request = { requestId: 'r', sourceAddress: '::1', userAgent: 'ua', token: { jti: 'j', sub: 'usr_1' } };
    const changes = [{ field: 'name', before: 'A', after: 'B' }];
    expect(eventAuditedEnvelopeSchemaOf('OrgUpdated').$id).toBe(
      'https://arbor.dev/schemas/events/OrgUpdated/v1.audited.json',
    );
    for (const audit of [
      undefined,
      { request, changes },
      { request: { erased: true } },
      { request: { dropped: true } },
    ])
      expect([audit, validate({ ...envelope('OrgUpdated', data), ...(audit && { audit }) })]).toEqual([audit, true]);
    for (const audit of [
      { request: { requestId: 'r', accessToken: 'x' } },
      { other: 1 },
      { changes: [{ field: 'x' }] },
    ])
      expect([audit, validate({ ...envelope('OrgUpdated', data), audit })]).toEqual([audit, false]);
  });

  it('name each type for CloudEvents with a reverse-DNS prefix', () => {
    expect(cloudEventTypeOf('OrgCreated')).toBe('dev.arbor.iam.OrgCreated');
  });
});
