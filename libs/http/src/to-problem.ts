import { HttpProblem } from './http-problem';
import { internalProblem } from './request-problems';

export type MapError = (err: unknown) => HttpProblem;

export type HttpLog = (msg: string, fields?: Record<string, unknown>) => void;

/**
 * The one funnel from "something was thrown" to a problem: an HttpProblem is already rendered; anything
 * else is `mapError`'s call. Should `mapError` itself fail, the client still gets a bland 500.
 */
export const toProblem = (err: unknown, mapError: MapError): HttpProblem => {
  if (err instanceof HttpProblem) return err;
  try {
    const problem = mapError(err);
    return problem instanceof HttpProblem ? problem : internalProblem();
  } catch {
    return internalProblem();
  }
};

/** Server faults are logged with the cause; the request itself (body, headers) never is, as it may hold secrets. */
export const logServerFault = (
  log: HttpLog,
  problem: HttpProblem,
  err: unknown,
  fields: Record<string, unknown>,
): void => {
  if (problem.status < 500) return;
  log('request failed', { ...fields, status: problem.status, code: problem.code, error: describeError(err) });
};

const describeError = (err: unknown): Record<string, unknown> =>
  err instanceof Error ? { name: err.name, message: err.message, stack: err.stack } : { value: String(err) };

/** Default sink: one line on stderr, so that 5xx causes are never silently lost. */
export const stderrLog: HttpLog = (msg, fields) => {
  process.stderr.write(`${JSON.stringify({ level: 'error', msg, ...fields })}\n`);
};
