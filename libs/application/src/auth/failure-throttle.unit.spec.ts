import { FailureThrottle } from './failure-throttle';

describe('FailureThrottle', () => {
  it('locks a key after the allowed failures until the window passes, and a success clears it', () => {
    const throttle = new FailureThrottle({ maxFailures: 3, windowMs: 60_000 });
    const t0 = 1_000_000;
    for (let i = 0; i < 3; i++) {
      expect(throttle.retryAfterSeconds('a', t0 + i)).toBe(0);
      throttle.recordFailure('a', t0 + i);
    }
    expect(throttle.retryAfterSeconds('a', t0 + 10)).toBe(60);
    expect(throttle.retryAfterSeconds('b', t0 + 10)).toBe(0);
    expect(throttle.retryAfterSeconds('a', t0 + 60_001)).toBe(0);
    throttle.recordSuccess('a');
    expect(throttle.retryAfterSeconds('a', t0 + 20)).toBe(0);
  });
});
