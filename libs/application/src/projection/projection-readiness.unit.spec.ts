import { ProjectionReadiness } from './projection-readiness';

describe('ProjectionReadiness', () => {
  let now = 0;
  const readiness = () => new ProjectionReadiness(5_000, () => now);

  it('is not ready while a start catches up with the head it found, and ready once past it', () => {
    now = 0;
    const r = readiness();
    expect(r.check(10, 100)).toBe('catching up (10/100)');
    now = 1_000;
    expect(r.check(60, 110)).toBe('catching up (60/110)');
    now = 2_000;
    expect(r.check(105, 120)).toBe('ok');
  });

  it('stays ready under a steady load: a few events behind, but past every head of 5 s ago', () => {
    now = 0;
    const r = readiness();
    const answers: string[] = [];
    // A probe a second; 50 writes a second, each projected about 40 ms after its commit (2 events behind).
    for (let s = 0; s <= 20; s++) {
      now = s * 1_000;
      const head = 50 * s + 2;
      if (s === 0) expect(r.check(head, head)).toBe('ok');
      else answers.push(r.check(head - 2, head));
    }
    expect(answers).toEqual(Array(20).fill('ok'));
  });

  it('reports a projection that stalls while writes go on, once it is behind a head 5 s old, and recovers', () => {
    now = 0;
    const r = readiness();
    expect(r.check(100, 100)).toBe('ok');
    now = 2_000;
    // Behind the head of now, not behind the first one seen: a moment's lag.
    expect(r.check(100, 150)).toBe('ok');
    now = 6_000;
    // Behind the head seen at 0 s? No (100 >= 100): only a moment's lag so far.
    expect(r.check(100, 250)).toBe('ok');
    now = 8_000;
    // Behind the head of 2 s (150), 5 s or more ago: stalled.
    expect(r.check(100, 300)).toBe('catching up (100/300)');
    now = 9_000;
    expect(r.check(300, 300)).toBe('ok');
  });

  it('is strict again when asked after a long gap: a restarted projector must catch up with the head of now', () => {
    now = 0;
    const r = readiness();
    expect(r.check(10, 10)).toBe('ok');
    // No probe for a minute, while 60 writes went by and the projector was down: the head seen then says nothing.
    now = 60_000;
    expect(r.check(10, 70)).toBe('catching up (10/70)');
    now = 60_200;
    expect(r.check(40, 70)).toBe('catching up (40/70)');
    now = 60_400;
    expect(r.check(70, 70)).toBe('ok');
  });

  it('is ready when nothing is written, whatever the gaps between probes', () => {
    now = 0;
    const r = readiness();
    for (const t of [0, 60_000, 60_100, 3_600_000]) {
      now = t;
      expect(r.check(42, 42)).toBe('ok');
    }
  });
});
