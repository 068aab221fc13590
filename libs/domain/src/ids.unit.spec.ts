import { newId } from './ids';

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
