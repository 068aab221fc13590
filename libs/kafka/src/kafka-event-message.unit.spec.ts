import type { StoredEvent } from '@arbor/domain';
import { ORG_PATH_HEADER, decodeEventMessage, encodeEventMessage, eventMessageKey } from './kafka-event-message';

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

  it('refuses what is not an event envelope', () => {
    expect(() => decodeEventMessage({ value: null })).toThrow('without a value');
    expect(() => decodeEventMessage({ value: '{"id":"x"}' })).toThrow('not an event envelope');
    expect(() => decodeEventMessage({ value: 'not json' })).toThrow();
    const ok = encodeEventMessage(event(['a'])).value;
    expect(() => decodeEventMessage({ value: ok, headers: { [ORG_PATH_HEADER]: '[1]' } })).toThrow('malformed');
  });
});
