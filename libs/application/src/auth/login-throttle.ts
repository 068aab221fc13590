import { LRUCache } from 'lru-cache';
import type { SecretVault } from '../ports/secret-vault';
import type { ThrottleCount, ThrottleStore } from '../ports/throttle-store';
import { admissionBlock, ThrottleKeys, throttleSource } from './throttle-keys';

/**
 * The numbers of the login throttle (contract section 3). Windows are fixed: a window opens with the first
 * point counted and lasts `windowSeconds`; a counter past its limit refuses until its window ends.
 */
export interface LoginThrottlePolicy {
  /**
   * (a) Consecutive failures of one subject from one source: past `limit`, that pair alone is refused (for
   * client secrets: its failures are answered `slow_down`).
   */
  pair: { limit: number; windowSeconds: number };
  /** (b) Failures from one source over every subject: past `limit`, the source is refused (likewise). */
  source: { limit: number; windowSeconds: number };
  /**
   * (c) Failures of one subject from every source: past `limit`, one password attempt per delay, from
   * whichever source, the delay doubling from `firstDelaySeconds` with each further failure up to
   * `maxDelaySeconds`.
   */
  subject: { limit: number; windowSeconds: number; firstDelaySeconds: number; maxDelaySeconds: number };
  /**
   * (d) A source from which the subject's password was right within `windowSeconds` (renewed by each
   * success) is known to the subject: it never queues at (c)'s gate, only (a) and (b) apply to it.
   */
  knownSource: { windowSeconds: number };
}

/**
 * Defaults. (a) and (b): 5 and 50 failures per 15 minutes. (c): 5 failures per hour, then delays of 1, 2, 4
 * ... 90 s at each of the two gates: under 100 attempts per hour on one account however many sources guess
 * (OWASP ASVS 4.0 2.2.1 asks for no more than 100). (d): 30 days, so an owner's usual places stay known.
 */
export const DEFAULT_LOGIN_THROTTLE_POLICY: LoginThrottlePolicy = {
  pair: { limit: 5, windowSeconds: 900 },
  source: { limit: 50, windowSeconds: 900 },
  subject: { limit: 5, windowSeconds: 3600, firstDelaySeconds: 1, maxDelaySeconds: 90 },
  knownSource: { windowSeconds: 30 * 24 * 3600 },
};

/** How long a process remembers that a counter refused (see LoginThrottle.refusals). */
const REFUSAL_MEMO_MS = 1000;

/** The `error_description` of a throttled answer (`slow_down`); it names no limit, so it tells nothing about the subject. */
export const THROTTLED = 'Too many attempts; retry after the number of seconds in Retry-After.';

/**
 * Answer `429 slow_down`: the password attempt may not be checked now, or the client-secret failure is past a
 * limit. Ask again after `retryAfterSeconds` (whole seconds, at least 1).
 */
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

/**
 * Throttles guessing of passwords and client secrets without handing attackers a lockout (OWASP ASVS 4.0
 * 2.2.1), over a ThrottleStore that every process of the deployment shares: a restart forgets nothing and
 * more gateways add no allowance. Failures count against three counters (see LoginThrottlePolicy): the pair
 * (subject, source) blocks only the guessing source; the source blocks one address spreading guesses over
 * many subjects; the subject, once past its limit, admits one password attempt per growing delay from any
 * source, except from sources known to the subject (its password was right from there within 30 days),
 * which never queue at the gate: guessing from elsewhere never delays the owner at a known source. Passwords: `reserve` before the
 * check; client secrets: `clientFailed` after a failed check (see each for why).
 *
 * Subjects are `account:<email key>` or `client:<client id>`; addresses are what express reports
 * (`req.ip`), counted per IPv4 address or IPv6 /64 (throttleSource). Store keys are keyed hashes.
 */
export class LoginThrottle {
  private readonly keys: ThrottleKeys;
  /**
   * Counters this process saw refuse, by subject and source (memory only, never stored): the end of the refusing window (ms since the epoch),
   * remembered for at most REFUSAL_MEMO_MS. A flood of attempts at a closed counter is then refused without
   * a store write each (a write per refused attempt cost more than the rest of the refusal). The price: for
   * up to that long, this process may refuse an attempt another process's success has just made possible.
   */
  private readonly refusals: LRUCache<string, { until: number; rememberedUntil: number }>;

  constructor(
    private readonly store: ThrottleStore,
    vault: SecretVault,
    private readonly policy: LoginThrottlePolicy = DEFAULT_LOGIN_THROTTLE_POLICY,
    /** Milliseconds since the epoch; tests move it with their store's clock. */
    private readonly now: () => number = Date.now,
  ) {
    this.keys = new ThrottleKeys(vault);
    this.refusals = new LRUCache({ max: 10_000 });
  }

  /**
   * For passwords, which can be guessed: every counter takes its point BEFORE the password is checked, so
   * attempts in flight count and a parallel burst gets no more checks than the limits allow. Counts are
   * atomic: an attempt that sees a count within the limit has at most limit - 1 others counted before it.
   * A refused attempt gives back what it took at the counters before the one that refused it (it was
   * never checked); the refusing counter keeps its point, which cannot extend its window.
   */
  async reserve(subject: string, address: string | undefined): Promise<ThrottleReservation | ThrottleRefusal> {
    const from = throttleSource(address);
    // Remembered refusals are keyed by the plain values (in memory only): a flood's refusal costs no HMAC.
    const memo = {
      pair: `pair\u0000${subject}\u0000${from}`,
      source: `source\u0000${from}`,
      gate: `gate\u0000${subject}\u0000${from}`,
    };
    const remembered =
      this.rememberedRefusal(memo.pair) ?? this.rememberedRefusal(memo.source) ?? this.rememberedRefusal(memo.gate);
    if (remembered) return remembered;
    const keys = await this.keys.of(subject, from);
    const { pair, source, subject: perSubject } = this.policy;
    const taken: Array<[key: string, windowSeconds: number]> = [];
    const refuse = async (key: string, count: ThrottleCount): Promise<ThrottleRefusal> => {
      const now = this.now();
      this.refusals.set(key, {
        until: now + count.msBeforeReset,
        rememberedUntil: now + Math.min(REFUSAL_MEMO_MS, count.msBeforeReset),
      });
      await this.giveBack(taken);
      return refusal(count.msBeforeReset);
    };

    const pairCount = await this.store.add(keys.pair, 1, pair.windowSeconds);
    if (pairCount.points > pair.limit) return refuse(memo.pair, pairCount);
    taken.push([keys.pair, pair.windowSeconds]);
    const sourceCount = await this.store.add(keys.source, 1, source.windowSeconds);
    if (sourceCount.points > source.limit) return refuse(memo.source, sourceCount);
    taken.push([keys.source, source.windowSeconds]);
    const subjectCount = await this.store.add(keys.subject, 1, perSubject.windowSeconds);
    taken.push([keys.subject, perSubject.windowSeconds]);
    if (subjectCount.points > perSubject.limit && !(await this.isKnown(keys.known))) {
      // Past the subject's allowance, a source not known to the subject (see below for known ones) queues at
      // a gate that admits one attempt per delay. Its window is the delay, so whoever finds it free takes it
      // atomically and everybody else waits for the window to end. Sources that already failed on this
      // subject (the pair counts one before this attempt; for IPv6, also any /64 of the same /48 that failed
      // at the gate: the admission counter) queue at one gate, sources that never did at another: polling
      // guessers, whose refused attempts cost them nothing, cannot take every opening from an owner who has
      // not failed unless they bring a fresh IPv4 address or IPv6 /48 for each opening they take (its failure
      // makes it dirty). Sources known to the subject skip the gate: guessing from elsewhere, timed or not,
      // never delays them; only (a) and (b) apply to them, and those count their own failures alone.
      let clean = pairCount.points === 1;
      if (clean && admissionBlock(from) !== from) {
        const admission = await this.store.add(keys.admission, 1, pair.windowSeconds);
        taken.push([keys.admission, pair.windowSeconds]);
        clean = admission.points === 1;
      }
      const gate = await this.store.add(
        clean ? keys.cleanGate : keys.gate,
        1,
        this.delaySeconds(subjectCount.points - perSubject.limit),
      );
      if (gate.points > 1) return refuse(memo.gate, gate);
    }
    return {
      ok: true,
      succeeded: async () => {
        await Promise.all([
          this.store.delete(keys.pair),
          ...taken
            .filter(([key]) => key !== keys.pair)
            .map(([key, windowSeconds]) => this.store.add(key, -1, windowSeconds)),
          this.markKnown(keys.known),
        ]);
      },
      release: () => this.giveBack(taken),
    };
  }

  /**
   * For client secrets: 256-bit random values that no number of guesses will find, checked by one HMAC.
   * Throttling cannot protect them, so it never refuses a right secret (from whatever source: an owner
   * behind the guesser's address, or its own instances during a secret rotation, keep working) and a
   * success touches no counter: the hot path of machine clients costs nothing. A failure, once checked,
   * counts against the same three counters as a password failure; past a limit it is answered `slow_down`
   * (the refusal returned) rather than `invalid_client`, so a guesser or a misconfigured caller is told to
   * back off, and of a parallel burst of wrong secrets only the failures within the limits are answered
   * as failures (each count is atomic). Past the subject's limit there is no gate: nothing to wait for.
   */
  async clientFailed(subject: string, address: string | undefined): Promise<ThrottleRefusal | undefined> {
    const keys = await this.keys.of(subject, throttleSource(address));
    const { pair, source, subject: perSubject } = this.policy;
    const [p, s, a] = await Promise.all([
      this.store.add(keys.pair, 1, pair.windowSeconds),
      this.store.add(keys.source, 1, source.windowSeconds),
      this.store.add(keys.subject, 1, perSubject.windowSeconds),
    ]);
    if (p.points > pair.limit) return refusal(p.msBeforeReset);
    if (s.points > source.limit) return refusal(s.msBeforeReset);
    if (a.points > perSubject.limit) return refusal(this.delaySeconds(a.points - perSubject.limit) * 1000);
    return undefined;
  }

  /** Whether the source is known to the subject (policy (d)): one read, which leaves no lasting record. */
  private async isKnown(key: string): Promise<boolean> {
    // A read of an absent key opens an empty window: 1 s, so that unknown sources leave nothing behind.
    return (await this.store.add(key, 0, 1)).points > 0;
  }

  /** Makes the source known to the subject for the policy's window from now (a running window keeps its end, so it starts anew). */
  private async markKnown(key: string): Promise<void> {
    await this.store.delete(key);
    await this.store.add(key, 1, this.policy.knownSource.windowSeconds);
  }

  private rememberedRefusal(key: string): ThrottleRefusal | undefined {
    const remembered = this.refusals.get(key);
    if (remembered === undefined) return undefined;
    const now = this.now();
    if (now >= remembered.rememberedUntil) {
      this.refusals.delete(key);
      return undefined;
    }
    return refusal(remembered.until - now);
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
