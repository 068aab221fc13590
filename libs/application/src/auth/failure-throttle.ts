/**
 * Counts failed authentications per key (an account, a client) in a sliding window. After `maxFailures`
 * the key is locked until the oldest counted failure leaves the window. Memory is bounded: past
 * `maxKeys` the oldest entries are dropped (a lost count only ever makes throttling milder).
 */
export class FailureThrottle {
  private readonly failures = new Map<string, number[]>();

  constructor(
    private readonly options: { maxFailures: number; windowMs: number; maxKeys?: number } = { maxFailures: 5, windowMs: 15 * 60_000 },
  ) {}

  /** Seconds to wait before the next attempt, or 0 when one is allowed now. */
  retryAfterSeconds(key: string, now = Date.now()): number {
    const recent = this.recent(key, now);
    if (recent.length < this.options.maxFailures) return 0;
    return Math.max(1, Math.ceil((recent[0] + this.options.windowMs - now) / 1000));
  }

  recordFailure(key: string, now = Date.now()): void {
    const recent = this.recent(key, now);
    recent.push(now);
    this.failures.delete(key);
    this.failures.set(key, recent);
    const maxKeys = this.options.maxKeys ?? 100_000;
    if (this.failures.size > maxKeys) this.failures.delete(this.failures.keys().next().value as string);
  }

  recordSuccess(key: string): void {
    this.failures.delete(key);
  }

  private recent(key: string, now: number): number[] {
    return (this.failures.get(key) ?? []).filter((t) => now - t < this.options.windowMs);
  }
}
