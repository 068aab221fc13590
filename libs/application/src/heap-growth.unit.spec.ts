import { DEFAULT_HEAP_GROWTH_PERCENT, limitHeapGrowth } from './heap-growth';

describe('limitHeapGrowth', () => {
  it('applies the default, or the percent given, and keeps V8 adaptive with 0', () => {
    expect(limitHeapGrowth({})).toBe(DEFAULT_HEAP_GROWTH_PERCENT);
    expect(limitHeapGrowth({ IAM_HEAP_GROWTH_PERCENT: '50' })).toBe(50);
    expect(limitHeapGrowth({ IAM_HEAP_GROWTH_PERCENT: '0' })).toBe(0);
  });

  it('leaves a flag given to node itself alone', () => {
    expect(limitHeapGrowth({ NODE_OPTIONS: '--max-old-space-size=512 --heap-growing-percent=20' })).toBe(0);
  });

  it.each(['-1', '1.5', 'lots', '5000'])('refuses IAM_HEAP_GROWTH_PERCENT=%s', (value) => {
    expect(() => limitHeapGrowth({ IAM_HEAP_GROWTH_PERCENT: value })).toThrow(
      /IAM_HEAP_GROWTH_PERCENT must be a whole number/,
    );
  });
});
