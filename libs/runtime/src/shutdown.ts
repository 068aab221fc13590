import type { Logger } from '@arbor/application';
import { unreachableServiceHint } from './unreachable-service';

/** What a start* function returns (startStandalone, startGateway, startCommandService, startProjector). */
export interface Running {
  /** Stops accepting work, then closes what the process opened, in order; idempotent. */
  close(): Promise<void>;
}

/**
 * Runs `steps` one after the other, each after the previous settled, even when one fails (a connection that
 * does not close must not keep the others open); then throws the first failure, if any. A step that should
 * run in parallel with others returns Promise.allSettled of them.
 */
export async function closeInOrder(...steps: Array<() => unknown>): Promise<void> {
  const failures: unknown[] = [];
  for (const step of steps) {
    try {
      await step();
    } catch (e) {
      failures.push(e);
    }
  }
  if (failures.length > 0) throw failures[0];
}

/** The process as the shutdown helper uses it; tests pass a stand-in. */
export interface SignalTarget {
  once(signal: NodeJS.Signals, listener: () => void): unknown;
  exit(code: number): void;
}

/** How long a close may take before the process exits anyway (a hung close must not keep it up forever; generous, as a snapshot may be written on the way out). */
export const SHUTDOWN_TIMEOUT_MS = 30_000;

/**
 * The shutdown every app's main.ts uses: on SIGINT or SIGTERM, logs `shutting down` with the signal, closes
 * `running` and exits 0; exits 1 if the close fails (logged as `shutdown failed`) or takes longer than
 * `timeoutMs` (`shutdown timed out`). A second signal while closing changes nothing (its default action, the
 * operator's way out, stays for a repeat of the same signal: the listeners are `once`).
 */
export function exitOnSignals(
  running: Running,
  log: Logger,
  options: { timeoutMs?: number; target?: SignalTarget } = {},
): void {
  const target = options.target ?? process;
  const timeoutMs = options.timeoutMs ?? SHUTDOWN_TIMEOUT_MS;
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    log.info('shutting down', { signal });
    const timer = setTimeout(() => {
      log.error('shutdown timed out', { timeoutMs });
      target.exit(1);
    }, timeoutMs);
    // The timer alone must not keep a process up whose close has finished.
    timer.unref();
    running.close().then(
      () => {
        clearTimeout(timer);
        target.exit(0);
      },
      (e) => {
        clearTimeout(timer);
        log.error('shutdown failed', { error: e instanceof Error ? e.message : String(e) });
        target.exit(1);
      },
    );
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) target.once(signal, () => stop(signal));
}

/**
 * The end of every app's main.ts: a start that throws prints `<prefix>: <message>` on stderr (e.g. `gateway
 * failed to start: PORT must be ...`; not a JSON line: the configuration the logger needs may be what failed)
 * and exits 1.
 */
export function exitOnStartFailure(prefix: string): (error: unknown) => void {
  return (error) => {
    process.stderr.write(`${startFailureMessage(prefix, error, process.env)}\n`);
    process.exit(1);
  };
}

/**
 * `<prefix>: <message>`, and for a service that did not answer, which variable names it (unreachableServiceHint):
 * `gateway failed to start: connect ECONNREFUSED 127.0.0.1:1 (nothing answers at 127.0.0.1:1, which DATABASE_URL
 * names)`.
 */
export function startFailureMessage(prefix: string, error: unknown, env: NodeJS.ProcessEnv): string {
  const hint = unreachableServiceHint(error, env);
  // Its message, for anything Error-like (instanceof fails across realms, e.g. Node's own errors under Jest's vm).
  const message = (error as { message?: unknown } | null)?.message;
  return `${prefix}: ${typeof message === 'string' ? message : String(error)}${hint ? ` (${hint})` : ''}`;
}
