/** A counter in its current window. */
export interface ThrottleCount {
  /** Points counted in the window (may be 0 or below after points were given back). */
  points: number;
  /** Milliseconds until the window ends and the counter starts again from nothing; at least 0. */
  msBeforeReset: number;
}

/**
 * Counters with a fixed window, shared by every process of a deployment: the login throttle's memory
 * (libs/application/src/auth/login-throttle.ts). Keys are opaque strings (keyed hashes: the store never sees
 * an email or an address) of at most 255 characters. Each operation is atomic per key across connections
 * and processes: of N concurrent `add(key, 1, w)` calls, each sees a distinct count.
 */
export interface ThrottleStore {
  /**
   * Adds `points` (negative: gives points back; 0: reads) to `key` and returns the count after the change. A
   * key that is absent or whose window has ended starts a new window of `windowSeconds` (whole seconds, > 0)
   * holding just `points`; a running window keeps its end, whatever `windowSeconds` says.
   */
  add(key: string, points: number, windowSeconds: number): Promise<ThrottleCount>;
  /** Forgets the key (nothing happens when it is absent). */
  delete(key: string): Promise<void>;
  /** Drops every key whose window ended before now; adapters also do this on their own, periodically. */
  purgeExpired(): Promise<void>;
  close(): Promise<void>;
}
