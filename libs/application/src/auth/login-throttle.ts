import type { SecretVault } from '../ports/secret-vault';
import type { ThrottleCount, ThrottleStore } from '../ports/throttle-store';
import { ThrottleKeys, throttleSource } from './throttle-keys';

/**
 * The numbers of the login throttle (contract section 3). Windows are fixed: a window opens with the first
 * point counted and lasts `windowSeconds`; a counter past its limit refuses until its window ends.
 */
export interface LoginThrottlePolicy {
  /** (a) Consecutive failures of one subject from one source: past `limit`, that pair alone is refused. */
  pair: { limit: number; windowSeconds: number };
  /** (b) Failures from one source over every subject: past `limit`, the source is refused. */
  source: { limit: number; windowSeconds: number };
  /**
   * (c) Failures of one subject from every source: past `limit`, one password attempt per delay, from
   * whichever source, the delay doubling from `firstDelaySeconds` with each further failure up to
   * `maxDelaySeconds`.
   */
  subject: { limit: number; windowSeconds: number; firstDelaySeconds: number; maxDelaySeconds: number };
}

/**
 * Defaults. (a) and (b): 5 and 50 failures per 15 minutes. (c): 5 failures per hour, then delays of 1, 2, 4
 * ... 60 s: at most about 70 attempts per hour on one account however many sources guess (OWASP ASVS 4.0
 * 2.2.1 asks for no more than 100), while the right password from another source waits 60 s at worst.
 */
export const DEFAULT_LOGIN_THROTTLE_POLICY: LoginThrottlePolicy = {
  pair: { limit: 5, windowSeconds: 900 },
  source: { limit: 50, windowSeconds: 900 },
  subject: { limit: 5, windowSeconds: 3600, firstDelaySeconds: 1, maxDelaySeconds: 60 },
};

/** The `error_description` of a throttled answer (`slow_down`); it names no limit, so it tells nothing about the subject. */
export const THROTTLED = 'Too many attempts; retry after the number of seconds in Retry-After.';

/** The attempt may not be checked now; ask again after `retryAfterSeconds` (whole seconds, at least 1). */
export interface ThrottleRefusal {
  ok: false;
  retryAfterSeconds: number;
}

/** A password attempt that holds its points while the password is checked. */
export interface ThrottleReservation {
  ok: true;
  /** The password was right: the pair's failures are forgotten, the source's and subject's point is given back. */
  succeeded(): Promise<void>;
  /** The attempt was never decided (e.g. shed by the hasher): every point it took is given back. */
  release(): Promise<void>;
}

/** A client authentication that may be checked; its failure is counted afterwards. */
export interface ThrottleAdmission {
  ok: true;
  succeeded(): Promise<void>;
  /** Counts the failure; a refusal when a limit is now passed (answer it `slow_down`, not `invalid_client`). */
  failed(): Promise<ThrottleRefusal | undefined>;
}

/**
 * Throttles guessing of passwords and client secrets without handing attackers a lockout (OWASP ASVS 4.0
 * 2.2.1), over a ThrottleStore that every process of the deployment shares: a restart forgets nothing and
 * more gateways add no allowance. Attempts count against three counters (see LoginThrottlePolicy): the pair
 * (subject, source) blocks only the guessing source; the source blocks one address spreading guesses over
 * many subjects; the subject, once past its limit, admits one attempt per growing delay from any source,
 * so the right password from elsewhere waits at most that delay.
 *
 * Subjects are `account:<email key>` or `client:<client id>`; addresses are what express reports
 * (`req.ip`), counted per IPv4 address or IPv6 /64 (throttleSource). Store keys are keyed hashes.
 */
export class LoginThrottle {
  private readonly keys: ThrottleKeys;

  constructor(
    private readonly store: ThrottleStore,
    vault: SecretVault,
    private readonly policy: LoginThrottlePolicy = DEFAULT_LOGIN_THROTTLE_POLICY,
  ) {
    this.keys = new ThrottleKeys(vault);
  }

  /**
   * For passwords, which can be guessed: every counter takes its point BEFORE the password is checked, so
   * attempts in flight count and a parallel burst gets no more checks than the limits allow. Counts are
   * atomic: an attempt that sees a count within the limit has at most limit - 1 others counted before it.
   * A refused attempt gives back what it took at the counters before the one that refused it (it was
   * never checked); the refusing counter keeps its point, which cannot extend its window.
   */
  async reserve(subject: string, address: string | undefined): Promise<ThrottleReservation | ThrottleRefusal> {
    const keys = await this.keys.of(subject, throttleSource(address));
    const { pair, source, subject: perSubject } = this.policy;
    const taken: Array<[key: string, windowSeconds: number]> = [];
    const refuse = async (count: ThrottleCount): Promise<ThrottleRefusal> => {
      await this.giveBack(taken);
      return refusal(count.msBeforeReset);
    };

    const pairCount = await this.store.add(keys.pair, 1, pair.windowSeconds);
    if (pairCount.points > pair.limit) return refuse(pairCount);
    taken.push([keys.pair, pair.windowSeconds]);
    const sourceCount = await this.store.add(keys.source, 1, source.windowSeconds);
    if (sourceCount.points > source.limit) return refuse(sourceCount);
    taken.push([keys.source, source.windowSeconds]);
    const subjectCount = await this.store.add(keys.subject, 1, perSubject.windowSeconds);
    taken.push([keys.subject, perSubject.windowSeconds]);
    if (subjectCount.points > perSubject.limit) {
      // Past the subject's allowance: the gate admits one attempt per delay. Its window is the delay, so
      // whoever finds it free takes it atomically and everybody else waits for the window to end.
      const gate = await this.store.add(keys.gate, 1, this.delaySeconds(subjectCount.points - perSubject.limit));
      if (gate.points > 1) return refuse(gate);
    }
    return {
      ok: true,
      succeeded: async () => {
        await Promise.all([this.store.delete(keys.pair), this.store.add(keys.source, -1, source.windowSeconds), this.store.add(keys.subject, -1, perSubject.windowSeconds)]);
      },
      release: () => this.giveBack(taken),
    };
  }

  /**
   * For client secrets: 256-bit random values that no number of guesses will find, checked by one HMAC. A
   * right secret is refused only from a pair or a source already past its limit; it never waits for the
   * subject's delay (machine clients call often, and a client id is in every token it holds: gating its
   * successes would hand anyone who saw one a slowdown of the client). So the counters are read before
   * the check and written only after a failure: a success costs two reads. A burst of parallel wrong
   * secrets is checked in full, but only the failures counted within the limits answer `invalid_client`.
   */
  async admit(subject: string, address: string | undefined): Promise<ThrottleAdmission | ThrottleRefusal> {
    const keys = await this.keys.of(subject, throttleSource(address));
    const { pair, source, subject: perSubject } = this.policy;
    const [pairCount, sourceCount] = await Promise.all([this.store.get(keys.pair), this.store.get(keys.source)]);
    if (pairCount && pairCount.points >= pair.limit) return refusal(pairCount.msBeforeReset);
    if (sourceCount && sourceCount.points >= source.limit) return refusal(sourceCount.msBeforeReset);
    return {
      ok: true,
      // Only consecutive failures block a pair: a success from it starts the count again.
      succeeded: async () => {
        if (pairCount && pairCount.points > 0) await this.store.delete(keys.pair);
      },
      failed: async () => {
        const [p, s, a] = await Promise.all([
          this.store.add(keys.pair, 1, pair.windowSeconds),
          this.store.add(keys.source, 1, source.windowSeconds),
          this.store.add(keys.subject, 1, perSubject.windowSeconds),
        ]);
        if (p.points > pair.limit) return refusal(p.msBeforeReset);
        if (s.points > source.limit) return refusal(s.msBeforeReset);
        if (a.points > perSubject.limit) return refusal(this.delaySeconds(a.points - perSubject.limit) * 1000);
        return undefined;
      },
    };
  }

  /** The gate's delay after the subject's `overLimit`-th attempt past its limit (1-based). */
  private delaySeconds(overLimit: number): number {
    const { firstDelaySeconds, maxDelaySeconds } = this.policy.subject;
    return Math.min(maxDelaySeconds, firstDelaySeconds * 2 ** Math.max(0, overLimit - 1));
  }

  /**
   * Gives one point back to each key. Should a window have ended meanwhile, the new one starts at -1: one
   * extra attempt at most, only when an attempt straddles a window's end.
   */
  private async giveBack(taken: Array<[key: string, windowSeconds: number]>): Promise<void> {
    await Promise.all(taken.map(([key, windowSeconds]) => this.store.add(key, -1, windowSeconds)));
  }
}

function refusal(ms: number): ThrottleRefusal {
  return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil(ms / 1000)) };
}
