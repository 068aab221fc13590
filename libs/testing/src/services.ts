/**
 * Suites that need something outside the repository (a PostgreSQL, a MongoDB-protocol server, a Kafka broker, a broker they may restart,
 * PostgreSQL's server binaries) declare it here, so that a missing service is never silent:
 *
 * - locally, the suite is skipped and its title carries the reason, `… [skipped: DATABASE_URL is not set; …]`;
 *   the run's closing notice (tests/support/skipped-suites-reporter.js) lists every such suite with it;
 * - in CI (`CI` set to anything but `false` or `0`), the suite fails to load instead: CI provisions every
 *   service (.ci/run), so a missing one is a broken pipeline, never a smaller test run.
 */

/** The marker the closing notice looks for in a skipped suite's title; keep in step with the reporter. */
export const SKIPPED_MARKER = '[skipped: ';

/** Whether this run is CI: `CI` set and not `false`/`0` (GitHub, GitLab and .ci/run set `CI=true`). */
export function isCi(env: NodeJS.ProcessEnv = process.env): boolean {
  const ci = env.CI;
  return ci !== undefined && ci !== '' && ci !== 'false' && ci !== '0';
}

/** Where each variable comes from, for the reason a suite gives when it is not set. */
const SOURCES: Record<string, string> = {
  DATABASE_URL: 'a PostgreSQL; scripts/services/postgres.sh prints it',
  KAFKA_BROKERS: 'a Kafka broker; scripts/services/kafka.sh prints it',
  MONGODB_URL: 'a MongoDB-protocol server; scripts/services/ferretdb.sh prints it',
  KAFKA_RESTART_BROKERS: 'a broker this suite stops and starts again, and the commands that do it; .ci/run sets them',
  KAFKA_RESTART_STOP_CMD: 'a broker this suite stops and starts again, and the commands that do it; .ci/run sets them',
  KAFKA_RESTART_START_CMD: 'a broker this suite stops and starts again, and the commands that do it; .ci/run sets them',
};

/**
 * The reason the named environment variables do not suffice, or `undefined` when all are set (non-empty).
 * E.g. `"DATABASE_URL is not set (a PostgreSQL; scripts/services/postgres.sh prints it)"`,
 * `"A and B are not set (…)"`.
 */
export function unsetVariables(names: string[], env: NodeJS.ProcessEnv = process.env): string | undefined {
  const missing = names.filter((name) => !env[name]);
  if (missing.length === 0) return undefined;
  const list =
    missing.length === 1 ? missing[0] : `${missing.slice(0, -1).join(', ')} and ${missing[missing.length - 1]}`;
  const sources = [...new Set(missing.map((name) => SOURCES[name]).filter(Boolean))];
  return `${list} ${missing.length === 1 ? 'is' : 'are'} not set${sources.length ? ` (${sources.join('; ')})` : ''}`;
}

/**
 * `describe` when `unmet` is undefined. Otherwise, outside CI, `describe.skip` with `[skipped: <unmet>]`
 * appended to the title; in CI, throws at once (the spec file fails to load, naming what is missing).
 * `unmet` is a sentence saying what is missing, as `unsetVariables` returns.
 */
export function describeIfAvailable(
  unmet: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): (name: string, fn: () => void) => void {
  if (unmet === undefined) return (name, fn) => describe(name, fn);
  if (isCi(env)) {
    throw new Error(
      `${unmet}. In CI (CI=${env.CI}) every service must be present: a suite needing one fails instead of being skipped.`,
    );
  }
  return (name, fn) => describe.skip(`${name} ${SKIPPED_MARKER}${unmet}]`, fn);
}

/** `describe` when every named variable is set; see `describeIfAvailable` for the rest. */
export function describeWithEnv(...names: string[]): (name: string, fn: () => void) => void {
  return describeIfAvailable(unsetVariables(names));
}
