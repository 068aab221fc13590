import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';

/**
 * What `npm test` says when a service is missing, observed by running Jest itself on a few suites, as a
 * developer without PostgreSQL and Kafka would (issue 11 item 20): locally it names each suite it did not
 * run and why; with CI=true a missing service fails the run.
 */
const ROOT = resolve(__dirname, '../..');
const JEST = join(ROOT, 'node_modules/jest/bin/jest.js');

const SERVICE_VARIABLES = [
  'DATABASE_URL',
  'KAFKA_BROKERS',
  'MONGODB_URL',
  'KAFKA_RESTART_BROKERS',
  'KAFKA_RESTART_STOP_CMD',
  'KAFKA_RESTART_START_CMD',
];

/**
 * Runs Jest in band on `args` with this process's environment minus the services and CI, plus `env`. Without
 * FORCE_COLOR too (Nx sets it for the tasks it runs): the assertions read Jest's summary as plain text.
 */
function jest(args: string[], env: Record<string, string> = {}): { status: number | null; output: string } {
  const base = { ...process.env };
  for (const name of [...SERVICE_VARIABLES, 'CI', 'JEST_WORKER_ID', 'FORCE_COLOR']) delete base[name];
  const run = spawnSync(process.execPath, [JEST, '--runInBand', ...args], {
    cwd: ROOT,
    env: { ...base, ...env },
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { status: run.status, output: `${run.stdout}\n${run.stderr}` };
}

const UNIT = 'libs/testing/src/services.unit.spec.ts';

describe('a test run without PostgreSQL and Kafka', () => {
  it('passes, and closes by naming every suite it did not run and the variable that would run it', () => {
    const run = jest([
      UNIT,
      'libs/postgres/src/postgres-token-store.int.spec.ts',
      'libs/postgres/src/postgres-secret-vault.int.spec.ts',
      'libs/kafka/src/kafka-bus.int.spec.ts',
      'tests/distributed/at-rest',
    ]);
    expect(run.status).toBe(0);
    const notice = run.output.slice(run.output.indexOf('NOT TESTED in this run')).split('\n\n')[0];
    expect(notice).toMatch(/^NOT TESTED in this run/);
    expect(notice).toContain(
      '2 suites skipped: DATABASE_URL is not set (a PostgreSQL; scripts/services/postgres.sh prints it)\n' +
        '    libs/postgres/src/postgres-secret-vault.int.spec.ts\n' +
        '    libs/postgres/src/postgres-token-store.int.spec.ts\n',
    );
    expect(notice).toContain(
      '1 suite skipped: KAFKA_BROKERS is not set (a Kafka broker; scripts/services/kafka.sh prints it)\n' +
        '    libs/kafka/src/kafka-bus.int.spec.ts\n',
    );
    expect(notice).toContain('the distributed project did not run (DATABASE_URL and KAFKA_BROKERS are not set)');
    expect(notice).toContain('tests/distributed/at-rest.e2e.spec.ts');
    expect(notice).toContain('With CI=true a missing service fails the run');
    expect(notice).not.toContain(UNIT);
  });

  it('says nothing of the kind when nothing was left out', () => {
    const run = jest([UNIT]);
    expect(run.status).toBe(0);
    expect(run.output).not.toContain('NOT TESTED');
  });
});

describe('a test run in CI', () => {
  it('fails when DATABASE_URL and KAFKA_BROKERS are not set, instead of leaving out the distributed project', () => {
    const run = jest([UNIT], { CI: 'true' });
    expect(run.status).not.toBe(0);
    expect(run.output).toContain('CI=true but DATABASE_URL, KAFKA_BROKERS and MONGODB_URL are not set');
  });

  it('fails when MONGODB_URL alone is not set, instead of leaving out the distributed-mongo project', () => {
    const run = jest([UNIT], {
      CI: 'true',
      DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none',
      KAFKA_BROKERS: '127.0.0.1:1',
    });
    expect(run.status).not.toBe(0);
    expect(run.output).toContain('CI=true but MONGODB_URL is not set: in CI the distributed and distributed-mongo');
  });

  it('fails a suite whose service is missing instead of skipping it', () => {
    // The two variables only let the configuration load; the suite's own (KAFKA_RESTART_*) are missing.
    const run = jest(['libs/kafka/src/kafka-broker-restart.int.spec.ts', '--selectProjects', 'embedded'], {
      CI: 'true',
      DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none',
      KAFKA_BROKERS: '127.0.0.1:1',
      MONGODB_URL: 'mongodb://127.0.0.1:1/',
    });
    expect(run.status).not.toBe(0);
    expect(run.output).toContain(
      'KAFKA_RESTART_BROKERS, KAFKA_RESTART_STOP_CMD and KAFKA_RESTART_START_CMD are not set',
    );
    expect(run.output).toMatch(/In CI \(CI=true\) every service must be present/);
    expect(run.output).not.toMatch(/Tests?:.*skipped/);
    expect(run.output).toMatch(/Test Suites: 1 failed/);
  });
});
