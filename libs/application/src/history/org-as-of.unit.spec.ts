import type { StoredEvent } from '@arbor/domain';
import { positionAtInstant } from './org-as-of';

/** A log with gaps between positions (a PostgreSQL sequence leaves them) and two events in one millisecond. */
const times: Array<[number, string]> = [
  [1, '2026-01-01T00:00:00.000Z'],
  [2, '2026-01-01T00:00:01.000Z'],
  [4, '2026-01-01T00:00:01.000Z'],
  [7, '2026-01-01T00:00:05.000Z'],
  [8, '2026-01-02T00:00:00.000Z'],
];
const store = {
  headPosition: async () => 8,
  readAll: async ({ after = 0, limit }: { after?: number; limit: number }) =>
    times
      .filter(([p]) => p > after)
      .slice(0, limit)
      .map(([position, occurredAt]) => ({ position, occurredAt }) as StoredEvent),
};

describe('positionAtInstant', () => {
  it.each([
    ['2025-12-31T23:59:59.999Z', 0],
    ['2026-01-01T00:00:00.000Z', 1],
    ['2026-01-01T00:00:00.999Z', 1],
    ['2026-01-01T00:00:01.000Z', 4],
    ['2026-01-01T00:00:04.999Z', 4],
    ['2026-01-01T00:00:05.000Z', 7],
    ['2026-01-03T00:00:00.000Z', 8],
  ])('%s is the log as of position %i', async (instant, position) => {
    expect(await positionAtInstant(store, instant)).toBe(position);
  });

  it('answers 0 on an empty log', async () => {
    expect(
      await positionAtInstant({ headPosition: async () => 0, readAll: async () => [] }, '2026-01-01T00:00:00Z'),
    ).toBe(0);
  });
});
