import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/**
 * One full garbage collection, run once by a process that has just finished starting, before it answers.
 *
 * Why: start-up allocates far more than it keeps (the command-model snapshot's decrypted JSON and its parse, the
 * log folded since, the composition of the app), and V8 leaves that garbage, and the heap grown to hold it, until
 * its memory reducer runs after some idle seconds (~30 s measured). Measured at 100k organizations and users with
 * two HTTP workers: PSS of all processes at ready 335 -> ~290 MB, for ~55-125 ms in the writer and ~25 ms per worker,
 * spent before the port is served (README, "Every core" under "Latest benchmark").
 *
 * How: `globalThis.gc` when node runs with `--expose-gc`; otherwise the flag is set for the moment it takes to get
 * V8's `gc` from a fresh context, then unset, as jest-leak-detector does (packages/jest-leak-detector in the Jest
 * repository): the application's own global is never given a `gc`.
 *
 * Returns the milliseconds the collection took. Throws only what V8 throws (nothing known).
 */
export function collectStartupGarbage(): number {
  const started = process.hrtime.bigint();
  const exposed = (globalThis as { gc?: () => void }).gc;
  if (exposed) exposed();
  else {
    setFlagsFromString('--expose-gc');
    try {
      (runInNewContext('gc') as () => void)();
    } finally {
      setFlagsFromString('--no-expose-gc');
    }
  }
  return Number(process.hrtime.bigint() - started) / 1e6;
}
