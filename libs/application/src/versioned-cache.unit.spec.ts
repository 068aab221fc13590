import { deepFreeze, VersionedCache } from './versioned-cache';

describe('VersionedCache', () => {
  it('answers with what was stored under the same version only', () => {
    const cache = new VersionedCache<string>(10);
    expect(cache.get(1, 'a')).toBeUndefined();
    cache.set(1, 'a', 'A@1');
    expect(cache.get(1, 'a')).toBe('A@1');
    expect(cache.get(2, 'a')).toBeUndefined();
    expect(cache.size).toBe(0);
    cache.set(1, 'a', 'late A@1');
    expect(cache.get(2, 'a')).toBeUndefined();
    cache.set(2, 'a', 'A@2');
    expect(cache.get(2, 'a')).toBe('A@2');
    // A rebuild starts again from 0.
    expect(cache.get(0, 'a')).toBeUndefined();
  });

  it('drops the least recently used entry beyond its size', () => {
    const cache = new VersionedCache<string>(2);
    cache.get(1, 'x');
    cache.set(1, 'a', 'A');
    cache.set(1, 'b', 'B');
    expect(cache.get(1, 'a')).toBe('A');
    cache.set(1, 'c', 'C');
    expect(cache.get(1, 'b')).toBeUndefined();
    expect(cache.get(1, 'a')).toBe('A');
    expect(cache.get(1, 'c')).toBe('C');
    cache.set(1, 'c', 'C again');
    expect(cache.size).toBe(2);
  });

  it('caches nothing with size 0, and refuses a size that is not a whole number', () => {
    const cache = new VersionedCache<string>(0);
    cache.get(1, 'a');
    cache.set(1, 'a', 'A');
    expect(cache.get(1, 'a')).toBeUndefined();
    expect(() => new VersionedCache(-1)).toThrow('maxEntries');
    expect(() => new VersionedCache(1.5)).toThrow('maxEntries');
  });
});

describe('deepFreeze', () => {
  it('freezes nested objects and arrays', () => {
    const v = deepFreeze({ items: [{ id: 'a', metadata: { tags: ['x'] } }], nextCursor: null });
    expect(Object.isFrozen(v.items[0].metadata.tags)).toBe(true);
    expect(() => (v.items as unknown[]).push(1)).toThrow(/Cannot/);
  });
});
