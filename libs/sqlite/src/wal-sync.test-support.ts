import fs from 'node:fs';

/** Whether `promise` has settled after the event loop turned a few times (the real fdatasync is held below). */
export async function settledYet(promise: Promise<unknown>): Promise<boolean> {
  let settled = false;
  promise.then(
    () => (settled = true),
    () => (settled = true),
  );
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
  return settled;
}

/**
 * Holds every fdatasync of the process (the real one runs, its callback waits) until `release()`: lets a test see
 * what a caller may observe between a COMMIT and the disk. `onCall` is told each call's descriptor.
 */
export function holdFdatasync(onCall?: (fd: number) => void): {
  calls: () => number;
  release: () => void;
  restore: () => void;
} {
  const real = fs.fdatasync;
  const held: Array<() => void> = [];
  let calls = 0;
  let released = false;
  const spy = jest.spyOn(fs, 'fdatasync').mockImplementation(((fd: number, callback: fs.NoParamCallback) => {
    calls++;
    onCall?.(fd);
    real(fd, (error) => (released ? callback(error) : held.push(() => callback(error))));
  }) as typeof fs.fdatasync);
  return {
    calls: () => calls,
    release: () => {
      released = true;
      for (const run of held.splice(0)) run();
    },
    // Also lets go of what is still held: a test that failed before its release must not leave a close waiting.
    restore: () => {
      spy.mockRestore();
      released = true;
      for (const run of held.splice(0)) run();
    },
  };
}
