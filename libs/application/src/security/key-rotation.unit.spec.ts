import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jsonLogger } from '../logger';
import { startKeyRotation } from './key-rotation';
import { KEY_PUBLICATION_LEAD_MS, SigningKeyRing } from './signing-key-ring';

const DAY = 24 * 60 * 60_000;

describe('signing key rotation', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'arbor-keys-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('publishes a new key at once and signs with it only after the publication lead; the old key stays', () => {
    const ring = SigningKeyRing.loadOrCreate(dir);
    const first = ring.current;
    const next = ring.rotate();
    expect(next.activeFrom).toBeGreaterThanOrEqual(Date.now() + KEY_PUBLICATION_LEAD_MS - 1000);
    expect(ring.jwks().keys.map((k) => k.kid)).toEqual([first.kid, next.kid]);
    expect(ring.current.kid).toBe(first.kid);
    const urgent = ring.rotate(Date.now());
    expect(ring.current.kid).toBe(urgent.kid);
    expect(ring.find(first.kid)).toBe(ring.all()[0]);
    // Reopened, the ring finds the same keys and the same current one.
    const again = SigningKeyRing.loadOrCreate(dir);
    expect(again.all().map((k) => [k.kid, k.activeFrom])).toEqual(ring.all().map((k) => [k.kid, k.activeFrom]));
    expect(again.current.kid).toBe(urgent.kid);
  });

  it('revokes a key: gone from the set and the JWKS, never the one that signs now, nor the last', () => {
    const ring = SigningKeyRing.loadOrCreate(dir);
    const first = ring.current;
    expect(() => ring.revoke(first.kid)).toThrow('signs now');
    expect(() => ring.revoke('no-such-kid')).toThrow('No signing key');
    const waiting = ring.rotate();
    // The first still signs (the new one waits for its turn): it cannot go yet.
    expect(() => ring.revoke(first.kid)).toThrow('signs now');
    ring.revoke(waiting.kid);
    expect(ring.jwks().keys.map((k) => k.kid)).toEqual([first.kid]);
    const next = ring.rotate(Date.now());
    ring.revoke(first.kid);
    expect(ring.jwks().keys.map((k) => k.kid)).toEqual([next.kid]);
    expect(ring.find(first.kid)).toBeUndefined();
    expect(readdirSync(join(dir, 'keys'))).toHaveLength(1);
  });

  it('rotates on schedule once the newest key is old enough, and not while a new one waits', () => {
    const ring = SigningKeyRing.loadOrCreate(dir);
    expect(ring.rotateIfDue(90 * DAY)).toBeUndefined();
    expect(ring.rotateIfDue(90 * DAY, Date.now() + 91 * DAY)).toBeDefined();
    expect(ring.rotateIfDue(90 * DAY, Date.now() + 91 * DAY)).toBeUndefined();
    expect(readdirSync(join(dir, 'keys'))).toHaveLength(2);
  });

  it('adopts a key another process made: the schedule reads the directory, the JWKS as soon as it changed', async () => {
    const ring = SigningKeyRing.loadOrCreate(dir);
    const other = SigningKeyRing.loadOrCreate(dir);
    const made = other.rotate(Date.now());
    expect(ring.jwks().keys.map((k) => k.kid)).toContain(made.kid);
    expect(ring.current.kid).toBe(made.kid);

    const third = SigningKeyRing.loadOrCreate(dir);
    const later = other.rotate(Date.now());
    const rotation = startKeyRotation(third, { rotationDays: 0, log: jsonLogger({}, 'silent'), checkEveryMs: 10 });
    try {
      await new Promise((r) => setTimeout(r, 50));
      expect(third.current.kid).toBe(later.kid);
      expect(readdirSync(join(dir, 'keys'))).toHaveLength(3);
    } finally {
      rotation.stop();
    }
  });
});
