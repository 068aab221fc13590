import type { SecretVault } from '../ports/secret-vault';
import type { ThrottleCount, ThrottleStore } from '../ports/throttle-store';

/**
 * A ThrottleStore in a Map with a clock the test moves (`now`, ms): enough to test LoginThrottle's rules,
 * which are arithmetic over counters. The SQLite and PostgreSQL adapters have their own integration tests
 * (libs/testing throttle-store-conformance). One thread, so every operation is atomic by construction.
 */
export class MemoryThrottleStore implements ThrottleStore {
  now = 1_000_000;
  readonly counters = new Map<string, { points: number; expire: number }>();

  async add(key: string, points: number, windowSeconds: number): Promise<ThrottleCount> {
    let counter = this.live(key);
    if (!counter) this.counters.set(key, (counter = { points: 0, expire: this.now + windowSeconds * 1000 }));
    counter.points += points;
    return { points: counter.points, msBeforeReset: counter.expire - this.now };
  }

  async delete(key: string): Promise<void> {
    this.counters.delete(key);
  }

  async purgeExpired(): Promise<void> {
    for (const key of [...this.counters.keys()]) if (!this.live(key)) this.counters.delete(key);
  }

  async close(): Promise<void> {}

  private live(key: string): { points: number; expire: number } | undefined {
    const counter = this.counters.get(key);
    return counter && counter.expire > this.now ? counter : undefined;
  }
}

/** The one vault call the throttle makes: its HMAC key. */
export const throttleVault = (): SecretVault => {
  const keys = new Map<string, Buffer>();
  return {
    ensureDataKey: async (id: string, candidate: Buffer) => {
      if (!keys.has(id)) keys.set(id, candidate);
      return keys.get(id)!;
    },
  } as unknown as SecretVault;
};
