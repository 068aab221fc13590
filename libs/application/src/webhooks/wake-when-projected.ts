/**
 * `wake` once the read models hold `position` (`waitFor` resolves: PostgreSQL's NOTIFY, or MongoDB's checkpoint
 * read every 25 ms while a wait lasts), for the latest position asked: at most one wait at a time, however many
 * commits ask, and each later position asked meanwhile is waited for once that wait ends. A wait that fails, throws
 * or times out (`timeoutMs`, default 10,000) wakes nothing: the dispatcher's own looks cover it; a `wake` that
 * throws is ignored likewise (never an unhandled rejection, never a stuck waker). Returns the function a commit
 * calls with its last position.
 */
export function wakeWhenProjected(
  waitFor: (position: number, timeoutMs: number) => Promise<void>,
  wake: () => void,
  timeoutMs = 10_000,
): (position: number) => void {
  let wanted = 0;
  let waiting = false;
  const ask = (position: number): void => {
    wanted = Math.max(wanted, position);
    if (waiting) return;
    waiting = true;
    const target = wanted;
    // `Promise.resolve().then`: a `waitFor` that throws at once rejects like one that fails later.
    void Promise.resolve()
      .then(() => waitFor(target, timeoutMs))
      .then(wake)
      .catch(() => undefined)
      .finally(() => {
        waiting = false;
        if (wanted > target) ask(wanted);
      });
  };
  return ask;
}
