import { idTime, isIdOf, isReadableId, newId } from './ids';

describe('newId', () => {
  it('is prefixed, URL-safe and unique', () => {
    const ids = new Set(Array.from({ length: 1000 }, () => newId('org')));
    expect(ids.size).toBe(1000);
    for (const id of ids) expect(id).toMatch(/^org_[0-9a-z]{26}$/);
  });

  it('sorts by creation time', () => {
    const earlier = newId('org', 1_700_000_000_000);
    const later = newId('org', 1_700_000_000_001);
    expect(earlier < later).toBe(true);
  });
});

describe('idTime', () => {
  it('reads back the millisecond newId wrote, and nothing from other shapes', () => {
    expect(idTime(newId('ses', 1_700_000_000_123))).toBe(1_700_000_000_123);
    expect(idTime(newId('a_b', 5))).toBe(5);
    for (const other of ['3f2c1e8a-9b7d-4c2e-8f1a-0b9c8d7e6f5a', 'ses_short', 'ses_UUUUUUUUUUUUUUUUUUUUUUUUUU', ''])
      expect(idTime(other)).toBeUndefined();
  });
});

describe('isIdOf', () => {
  it("accepts what newId makes for the kind's prefix, and nothing else", () => {
    expect(isIdOf('org', newId('org'))).toBe(true);
    expect(isIdOf('user', newId('usr'))).toBe(true);
    expect(isIdOf('clientCredential', newId('cc'))).toBe(true);
    const others = [
      newId('usr'),
      newId('cli'),
      'org_atkdeep1800',
      'org_internalchild1',
      `org_${'u'.repeat(26)}`,
      `org_${'8'.repeat(26)}`,
      `ORG_${newId('x').slice(2).toUpperCase()}`,
      `${newId('org')} `,
      `${newId('org')}\n`,
    ];
    for (const value of others) expect(isIdOf('org', value)).toBe(false);
    for (const value of [
      'bad id/..',
      'me',
      'arbor-first-party',
      'system:snapshot',
      newId('cli'),
      newId('org'),
      '',
      42,
      null,
      undefined,
    ])
      expect(isIdOf('user', value)).toBe(false);
    expect(isIdOf('clientCredential', 'cc bad/..')).toBe(false);
  });
});

describe('isReadableId', () => {
  it('accepts 1-100 letters, digits, _ and -, the ids a read may name, and nothing else', () => {
    for (const ok of [newId('org'), 'org_atkdeep1800', 'A-b_9', 'x'.repeat(100)]) expect(isReadableId(ok)).toBe(true);
    for (const bad of ['', 'x'.repeat(101), 'org 1', 'org/..', 'org_1\n', 'ørg', 42, null, undefined])
      expect(isReadableId(bad)).toBe(false);
  });
});
