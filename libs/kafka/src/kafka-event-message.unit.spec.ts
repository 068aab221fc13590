import type { StoredEvent } from '@arbor/domain';
import {
  DEFAULT_CLOUDEVENTS_SOURCE,
  ORG_PATH_HEADER,
  decodeEventMessage,
  encodeEventMessage,
  eventMessageKey,
} from './kafka-event-message';

const event = (orgPath: string[], streamId = 'org-x'): StoredEvent => ({
  id: '6f1c1d8e-0000-4000-8000-000000000001',
  type: 'OrgCreated',
  streamId,
  streamVersion: 1,
  position: 7,
  occurredAt: '2024-01-01T00:00:00.000Z',
  actor: { type: 'user', id: 'usr_1' },
  data: { orgId: 'x', nested: { a: [1, 2] } },
  orgPath,
});

describe('Kafka event messages', () => {
  it('keys by root organization, or by stream for events about no organization', () => {
    expect(eventMessageKey(event(['root', 'child']))).toBe('root');
    expect(eventMessageKey(event([], 'usr-1'))).toBe('usr-1');
  });

  it('carries the public envelope as the value and orgPath in a header, and decodes back', () => {
    const e = event(['root', 'child']);
    const message = encodeEventMessage(e);
    expect(message.key).toBe('root');
    const { orgPath, ...envelope } = e;
    expect(JSON.parse(message.value)).toEqual(envelope);
    expect(Object.keys(JSON.parse(message.value))).toEqual([
      'id',
      'type',
      'streamId',
      'streamVersion',
      'position',
      'occurredAt',
      'actor',
      'data',
    ]);
    expect(message.headers[ORG_PATH_HEADER]).toBe(JSON.stringify(orgPath));
    // As a consumer receives it: Buffers.
    const received = {
      value: Buffer.from(message.value),
      headers: { [ORG_PATH_HEADER]: Buffer.from(JSON.stringify(orgPath)) },
    };
    expect(decodeEventMessage(received)).toEqual(e);
    expect(decodeEventMessage({ value: message.value })).toEqual({ ...e, orgPath: [] });
  });

  it('is a CloudEvent in binary content mode: ce_ headers, the envelope as its data', () => {
    const e = { ...event(['root']), data: { orgId: 'org_1', parentId: null } } satisfies StoredEvent;
    const message = encodeEventMessage({ ...e, type: 'OrgDeleted' }, 'https://iam.example.com');
    expect(message.headers).toEqual({
      [ORG_PATH_HEADER]: '["root"]',
      ce_specversion: '1.0',
      ce_id: e.id,
      ce_source: 'https://iam.example.com',
      ce_type: 'dev.arbor.iam.OrgDeleted',
      ce_time: e.occurredAt,
      ce_subject: e.streamId,
      ce_dataschema: 'https://arbor.dev/schemas/events/OrgDeleted/v1.envelope.json',
      'content-type': 'application/json',
    });
    // The source defaults; a type this code does not know (written by newer code) goes without a schema.
    const unknown = encodeEventMessage({ ...e, type: 'SomethingNew' });
    expect(unknown.headers.ce_source).toBe(DEFAULT_CLOUDEVENTS_SOURCE);
    expect(unknown.headers.ce_type).toBe('dev.arbor.iam.SomethingNew');
    expect(unknown.headers).not.toHaveProperty('ce_dataschema');
    // The headers change nothing for envelope consumers.
    expect(decodeEventMessage(message)).toEqual({ ...e, type: 'OrgDeleted' });
  });

  it('refuses what is not an event envelope', () => {
    expect(() => decodeEventMessage({ value: null })).toThrow('without a value');
    expect(() => decodeEventMessage({ value: '{"id":"x"}' })).toThrow('not an event envelope');
    expect(() => decodeEventMessage({ value: 'not json' })).toThrow();
    const ok = encodeEventMessage(event(['a'])).value;
    expect(() => decodeEventMessage({ value: ok, headers: { [ORG_PATH_HEADER]: '[1]' } })).toThrow('malformed');
  });
});
