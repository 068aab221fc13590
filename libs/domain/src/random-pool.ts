import { randomFillSync } from 'node:crypto';

/** Bytes drawn from the system's CSPRNG at a time (see pooledRandomBytes). */
const POOL_BYTES = 4096;
const pool = Buffer.allocUnsafe(POOL_BYTES);
let offset = POOL_BYTES;

/**
 * `n` bytes (1-256) of `crypto.randomFillSync` output, taken from a pool refilled POOL_BYTES at a time: what
 * Node's own `randomUUID` (its entropy cache) and the `uuid` package's generator do. `randomBytes(12)` costs ~2 µs
 * a call here against ~0.1 µs from the pool, and every write and sign-in draws several (ids, AES-GCM nonces).
 *
 * For values that are not secrets once used (identifiers, nonces): a key would sit in the pool's memory before it is
 * drawn, so keys come from `randomBytes` itself. The returned buffer is the caller's own (a copy).
 */
export function pooledRandomBytes(n: number): Buffer {
  if (!Number.isInteger(n) || n < 1 || n > 256) throw new RangeError(`pooledRandomBytes: 1-256 bytes, not ${n}`);
  if (offset + n > POOL_BYTES) {
    randomFillSync(pool);
    offset = 0;
  }
  const out = Buffer.allocUnsafe(n);
  pool.copy(out, 0, offset, offset + n);
  offset += n;
  return out;
}
