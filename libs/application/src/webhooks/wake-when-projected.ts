/**
 * `wake` once the read models hold `position` (`waitFor` resolves: PostgreSQL's NOTIFY, MongoDB's watch), for the
 * latest position asked: at most one wait at a time, however many commits ask, and each later position asked
 * meanwhile is waited for once that wait ends. A wait that fails or times out (`timeoutMs`, default 10,000) wakes
 * nothing: the dispatcher's own looks cover it. Returns the function a commit calls with its last position.
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
    void waitFor(target, timeoutMs)
      .then(wake, () => undefined)
      .finally(() => {
        waiting = false;
        if (wanted > target) ask(wanted);
      });
  };
  return ask;
}
