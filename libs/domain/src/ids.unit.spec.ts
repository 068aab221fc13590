import { idTime, newId } from './ids';

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
    for (const other of ['3f2c1e8a-9b7d-4c2e-8f1a-0b9c8d7e6f5a', 'ses_short', 'ses_UUUUUUUUUUUUUUUUUUUUUUUUUU', '']) expect(idTime(other)).toBeUndefined();
  });
});
