import {
  DEFAULT_LOGIN_THROTTLE_POLICY,
  LoginThrottle,
  type LoginThrottlePolicy,
  type ThrottleRefusal,
  type ThrottleReservation,
} from './login-throttle';
import { ThrottleKeys } from './throttle-keys';
import { MemoryThrottleStore, throttleVault } from './throttle.test-support';

const ATTACKER = '198.51.100.7';
const OWNER = '203.0.113.9';
const ACCOUNT = 'account:ada@example.test';

function setup(policy: LoginThrottlePolicy = DEFAULT_LOGIN_THROTTLE_POLICY) {
  const store = new MemoryThrottleStore();
  const vault = throttleVault();
  const throttle = new LoginThrottle(store, vault, policy, () => store.now);
  const advance = (seconds: number) => (store.now += seconds * 1000);
  /** A wrong password: reserved, then left as a failure. */
  const fail = async (subject: string, address: string) => (await throttle.reserve(subject, address)).ok;
  return { store, vault, throttle, advance, fail };
}

const refused = (r: { ok: boolean }) => r as ThrottleRefusal;

describe('LoginThrottle.reserve (passwords)', () => {
  it('checks at most 5 of a parallel burst from one source: the points are taken before the check', async () => {
    const { throttle } = setup();
    const results = await Promise.all(Array.from({ length: 60 }, () => throttle.reserve(ACCOUNT, ATTACKER)));
    expect(results.filter((r) => r.ok)).toHaveLength(5);
    for (const r of results.filter((x) => !x.ok)) expect(refused(r).retryAfterSeconds).toBeGreaterThan(0);
  });

  it('blocks only the guessing source: the owner elsewhere gets in at once, and others wait a growing delay', async () => {
    const { throttle, advance, fail } = setup();
    for (let i = 0; i < 5; i++) expect(await fail(ACCOUNT, ATTACKER)).toBe(true);
    const blocked = await throttle.reserve(ACCOUNT, ATTACKER);
    expect(blocked).toEqual({ ok: false, retryAfterSeconds: 900 });

    // Past the account's allowance, one attempt per delay from any source: the first finds the gate open.
    const owner = (await throttle.reserve(ACCOUNT, OWNER)) as ThrottleReservation;
    expect(owner.ok).toBe(true);
    await owner.succeeded();
    advance(1);

    // Other sources guessing: each failure through the gate doubles the next delay, up to 90 s, for a source
    // new to the account; the owner's source, known since its success, never waits.
    const NEWCOMER = '203.0.113.10';
    const delays: number[] = [];
    for (let i = 0; i < 9; i++) {
      expect(await fail(ACCOUNT, `192.0.2.${i}`)).toBe(true);
      const waiting = await throttle.reserve(ACCOUNT, NEWCOMER);
      expect(waiting.ok).toBe(false);
      delays.push(refused(waiting).retryAfterSeconds);
      const known = (await throttle.reserve(ACCOUNT, OWNER)) as ThrottleReservation;
      expect(known.ok).toBe(true);
      await known.succeeded();
      advance(refused(waiting).retryAfterSeconds);
    }
    expect(delays).toEqual([1, 2, 4, 8, 16, 32, 64, 90, 90]);
    // After the delay, the newcomer's right password goes through.
    expect((await throttle.reserve(ACCOUNT, NEWCOMER)).ok).toBe(true);
  });

  it('refused attempts give their points back: they were never checked, so they grow no delay', async () => {
    const { store, throttle, fail } = setup();
    for (let i = 0; i < 5; i++) await fail(ACCOUNT, `192.0.2.${i}`);
    expect(await fail(ACCOUNT, '192.0.2.100')).toBe(true); // through the gate: 1 s
    for (let i = 0; i < 10; i++) expect(refused(await throttle.reserve(ACCOUNT, OWNER)).retryAfterSeconds).toBe(1);
    store.now += 1000;
    expect(await fail(ACCOUNT, OWNER)).toBe(true); // the 7th counted failure: the next delay is 2 s
    expect(refused(await throttle.reserve(ACCOUNT, '192.0.2.200')).retryAfterSeconds).toBe(2);
  });

  it('limits one source spreading guesses over many accounts to 50 per 15 minutes', async () => {
    const { store, vault, throttle, advance, fail } = setup();
    for (let account = 0; account < 10; account++)
      for (let i = 0; i < 5; i++) expect(await fail(`account:user${account}@example.test`, ATTACKER)).toBe(true);
    const next = await throttle.reserve('account:user10@example.test', ATTACKER);
    expect(next).toEqual({ ok: false, retryAfterSeconds: 900 });
    // It gave back the point it had taken at its pair: it was never checked.
    const keys = await new ThrottleKeys(vault).of('account:user10@example.test', ATTACKER);
    expect(await store.add(keys.pair, 0, 900)).toEqual({ points: 0, msBeforeReset: 900_000 });
    // Another source is not affected; the source may try again once its window ends.
    expect((await throttle.reserve('account:user10@example.test', OWNER)).ok).toBe(true);
    advance(900);
    expect((await throttle.reserve('account:user10@example.test', ATTACKER)).ok).toBe(true);
  });

  it("a success forgets the pair's failures and gives back the points it took; release gives back everything", async () => {
    // An account limit out of the way, to see the pair's own rule.
    const { throttle, fail } = setup({
      ...DEFAULT_LOGIN_THROTTLE_POLICY,
      subject: { ...DEFAULT_LOGIN_THROTTLE_POLICY.subject, limit: 100 },
    });
    for (let i = 0; i < 4; i++) await fail(ACCOUNT, OWNER);
    const right = (await throttle.reserve(ACCOUNT, OWNER)) as ThrottleReservation;
    await right.succeeded();
    // Consecutive failures only: five more may follow.
    for (let i = 0; i < 5; i++) expect(await fail(ACCOUNT, OWNER)).toBe(true);
    expect((await throttle.reserve(ACCOUNT, OWNER)).ok).toBe(false);

    const other = setup();
    const shed = (await other.throttle.reserve(ACCOUNT, OWNER)) as ThrottleReservation;
    await shed.release();
    expect([...other.store.counters.values()].map((c) => c.points)).toEqual([0, 0, 0]);
  });

  it('stores keyed hashes only: no email, client id or address in the clear', async () => {
    const { store, fail } = setup();
    await fail(ACCOUNT, ATTACKER);
    await fail('account:ada@example.test', '2001:db8::1');
    for (const key of store.counters.keys()) {
      expect(key).toMatch(/^[psag]:[A-Za-z0-9_-]{43}$/);
      for (const clear of ['ada@example.test', ATTACKER, '2001:db8']) expect(key).not.toContain(clear);
    }
  });
});

describe('LoginThrottle.clientFailed (client secrets)', () => {
  const CLIENT = 'client:cli_abc';

  it('answers at most 5 failures of a parallel burst from one source as failures; the rest are refusals', async () => {
    const { throttle } = setup();
    const answers = await Promise.all(Array.from({ length: 20 }, () => throttle.clientFailed(CLIENT, ATTACKER)));
    expect(answers.filter((a) => a === undefined)).toHaveLength(5);
    for (const a of answers.filter((x) => x !== undefined)) expect(a).toEqual({ ok: false, retryAfterSeconds: 900 });
  });

  it('refuses failures past the pair, source and client limits, with the time to wait', async () => {
    const { throttle, advance } = setup();
    for (let i = 0; i < 5; i++) expect(await throttle.clientFailed(CLIENT, ATTACKER)).toBeUndefined();
    expect(await throttle.clientFailed(CLIENT, ATTACKER)).toEqual({ ok: false, retryAfterSeconds: 900 });
    // Past the client's own limit, from fresh sources: a refusal whose wait grows with the failures.
    const waits: number[] = [];
    for (let i = 0; i < 8; i++) waits.push((await throttle.clientFailed(CLIENT, `192.0.2.${i}`))!.retryAfterSeconds);
    expect(waits).toEqual([2, 4, 8, 16, 32, 64, 90, 90]);
    // Over many clients, one source is refused after 50 failures.
    const spreader = '198.51.100.200';
    for (let i = 0; i < 50; i++) expect(await throttle.clientFailed(`client:cli_${i % 10}`, spreader)).toBeUndefined();
    expect(await throttle.clientFailed('client:cli_other', spreader)).toEqual({ ok: false, retryAfterSeconds: 900 });
    advance(900);
    expect(await throttle.clientFailed('client:cli_other', spreader)).toBeUndefined();
  });
});

describe('DEFAULT_LOGIN_THROTTLE_POLICY', () => {
  it('keeps one account under 100 attempts an hour however many sources guess (ASVS 4.0 2.2.1)', async () => {
    const { advance, fail } = setup();
    let checked = 0;
    // A botnet: a fresh source per attempt, trying again the moment it may, for one hour.
    for (let second = 0, source = 0; second < 3600;) {
      if (await fail(ACCOUNT, `10.${source >> 16}.${(source >> 8) & 255}.${source & 255}`)) {
        checked++;
        source++;
      } else {
        advance(1);
        second++;
      }
    }
    expect(checked).toBeLessThanOrEqual(100);
    expect(DEFAULT_LOGIN_THROTTLE_POLICY.subject.maxDelaySeconds).toBeLessThanOrEqual(90);
  });

  it('keeps it under 100 an hour when the botnet takes both gates: fresh sources and sources that failed before', async () => {
    const { advance, fail } = setup();
    let checked = 0;
    let fresh = 0;
    const dirty = ['198.51.100.1', '198.51.100.2', '198.51.100.3'];
    for (let second = 0; second < 3600; second++, advance(1)) {
      for (const source of dirty) if (await fail(ACCOUNT, source)) checked++;
      while (await fail(ACCOUNT, `10.0.${fresh >> 8}.${fresh & 255}`)) (checked++, fresh++);
    }
    expect(checked).toBeLessThanOrEqual(100);
  });
});

describe('LoginThrottle refusal memo', () => {
  it('refuses a flood at a closed counter without a store write per attempt, for at most a second', async () => {
    const { store, throttle, advance, fail } = setup();
    for (let i = 0; i < 5; i++) await fail(ACCOUNT, ATTACKER);
    let writes = 0;
    const add = store.add.bind(store);
    store.add = (...args) => (writes++, add(...args));
    const refusals = await Promise.all(Array.from({ length: 5 }, () => throttle.reserve(ACCOUNT, ATTACKER)));
    expect(refusals.every((r) => !r.ok)).toBe(true);
    const first = writes;
    for (let i = 0; i < 50; i++) expect((await throttle.reserve(ACCOUNT, ATTACKER)).ok).toBe(false);
    expect(writes).toBe(first);
    // The remembered refusal names the real window's end, and the memo lapses after a second.
    expect(refused(await throttle.reserve(ACCOUNT, ATTACKER)).retryAfterSeconds).toBe(900);
    advance(1);
    await throttle.reserve(ACCOUNT, ATTACKER);
    expect(writes).toBe(first + 1);
  });
});

describe('LoginThrottle gates under polling guessers', () => {
  it('lets the owner from a source that never failed past guessers who poll every opening of the gate', async () => {
    const { throttle, advance, fail } = setup();
    const attackers = ['198.51.100.10', '198.51.100.11', '198.51.100.12'];
    // Two wrong guesses each: the account is past its allowance, and every attacker source has failed on it.
    for (const a of attackers) for (let i = 0; i < 2; i++) expect(await fail(ACCOUNT, a)).toBe(true);
    const waits: number[] = [];
    for (let round = 0; round < 6; round++) {
      // The guessers poll first whenever time moves: one of them takes the gate they share and fails.
      for (const a of attackers) await throttle.reserve(ACCOUNT, a);
      const owner = await throttle.reserve(ACCOUNT, OWNER);
      if (owner.ok) {
        await owner.succeeded();
        break;
      }
      waits.push(refused(owner).retryAfterSeconds);
      advance(refused(owner).retryAfterSeconds);
    }
    // The owner waited at most one delay, however the guessers poll.
    expect(waits.length).toBeLessThanOrEqual(1);
  });
});

describe('LoginThrottle known sources under a timed attacker with many addresses', () => {
  const OWNER_V6 = '2001:db8:beef:3::1';
  /** The n-th fresh source of the attacker: a /64 of a /48 of its own (a botnet, or many /48s). */
  const freshSource = (n: number) => `2001:db8:${(0x1000 + n).toString(16)}:1::1`;

  it("lets the owner in at once from a source it logged in from, however the attacker takes the gate's openings", async () => {
    const { throttle, advance, fail } = setup();
    // The owner logs in once from its usual source: that source is now known to the account.
    await ((await throttle.reserve(ACCOUNT, OWNER_V6)) as ThrottleReservation).succeeded();
    // Five failures close the account's allowance.
    for (let i = 0; i < 5; i++) expect(await fail(ACCOUNT, '2001:db8:dead::3')).toBe(true);
    let attackerWins = 0;
    let fresh = 0;
    for (let round = 0; round < 20; round++) {
      // Just as the gate opens, the attacker's fresh source takes it (and fails), before the owner asks.
      const probe = await throttle.reserve(ACCOUNT, freshSource(++fresh));
      if (probe.ok) attackerWins++;
      else {
        advance(refused(probe).retryAfterSeconds);
        expect(await fail(ACCOUNT, freshSource(++fresh))).toBe(true);
        attackerWins++;
      }
      // The owner, at its known source, gets in at once every time with the right password.
      const owner = await throttle.reserve(ACCOUNT, OWNER_V6);
      expect(owner.ok).toBe(true);
      await (owner as ThrottleReservation).succeeded();
      advance(5);
    }
    // The attacker held every opening of the gate and it locked nobody out: the guesses stay bounded.
    expect(attackerWins).toBe(20);
  });

  it('keeps a known source to its own limits: its failures are refused past 5, like any pair', async () => {
    const { throttle, fail } = setup();
    await ((await throttle.reserve(ACCOUNT, OWNER)) as ThrottleReservation).succeeded();
    for (let i = 0; i < 5; i++) expect(await fail(ACCOUNT, `192.0.2.${i}`)).toBe(true);
    for (let i = 0; i < 5; i++) expect(await fail(ACCOUNT, OWNER)).toBe(true);
    expect(await throttle.reserve(ACCOUNT, OWNER)).toEqual({ ok: false, retryAfterSeconds: 900 });
  });

  it('forgets a known source 30 days after its last success', async () => {
    const { throttle, advance, fail } = setup();
    await ((await throttle.reserve(ACCOUNT, OWNER)) as ThrottleReservation).succeeded();
    advance(29 * 86_400);
    await ((await throttle.reserve(ACCOUNT, OWNER)) as ThrottleReservation).succeeded(); // renews it
    advance(29 * 86_400);
    for (let i = 0; i < 5; i++) expect(await fail(ACCOUNT, ATTACKER)).toBe(true);
    expect(await fail(ACCOUNT, '198.51.100.50')).toBe(true); // a source that never failed takes the clean gate
    expect((await throttle.reserve(ACCOUNT, OWNER)).ok).toBe(true); // still known: no gate
    advance(31 * 86_400);
    for (let i = 0; i < 5; i++) expect(await fail(ACCOUNT, ATTACKER)).toBe(true);
    expect(await fail(ACCOUNT, '198.51.100.51')).toBe(true);
    expect((await throttle.reserve(ACCOUNT, OWNER)).ok).toBe(false); // unknown now: it queues at the gate
  });

  it('admits one /48 as a source that never failed only until one of its /64s fails at the gate', async () => {
    const { throttle, advance, fail } = setup();
    for (let i = 0; i < 5; i++) expect(await fail(ACCOUNT, '198.51.100.1')).toBe(true);
    const waits: number[] = [];
    for (let round = 0; round < 6; round++) {
      // The attacker brings a fresh /64 of its one /48 for each opening, first in line.
      await throttle.reserve(ACCOUNT, `2001:db8:aaaa:${(round + 1).toString(16)}::1`);
      // An owner at a source new to the account (another /48) still finds the clean gate free.
      const owner = await throttle.reserve(ACCOUNT, '2001:db8:bbbb:1::1');
      if (owner.ok) break;
      waits.push(refused(owner).retryAfterSeconds);
      advance(refused(owner).retryAfterSeconds);
    }
    expect(waits.length).toBeLessThanOrEqual(1);
  });
});
