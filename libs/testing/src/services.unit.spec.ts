import { describeIfAvailable, isCi, SKIPPED_MARKER, unsetVariables } from './services';
// The closing notice of every Jest run (plain JS: Jest loads reporters untransformed).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { noticeLines } = require('../../../tests/support/skipped-suites-reporter.js') as {
  noticeLines: (input: {
    testResults: Array<{ testFilePath: string; testResults: Array<{ ancestorTitles: string[] }> }>;
    rootDir: string;
    distributed: boolean;
    distributedMongo?: boolean;
    neutralSuites: string[];
    distributedOnly: string[];
    distributedOnlyDir?: string;
  }) => string[];
};

describe('unsetVariables', () => {
  it('names the missing variables and where each comes from', () => {
    expect(unsetVariables(['DATABASE_URL'], {})).toBe(
      'DATABASE_URL is not set (a PostgreSQL; scripts/services/postgres.sh prints it)',
    );
    expect(unsetVariables(['DATABASE_URL', 'KAFKA_BROKERS'], { DATABASE_URL: 'postgres://x' })).toBe(
      'KAFKA_BROKERS is not set (a Kafka broker; scripts/services/kafka.sh prints it)',
    );
    expect(unsetVariables(['A', 'B', 'C'], { B: '' })).toBe('A, B and C are not set');
    expect(unsetVariables(['DATABASE_URL'], { DATABASE_URL: 'postgres://x' })).toBeUndefined();
  });
});

describe('isCi', () => {
  it('is true for CI set to anything but empty, false or 0', () => {
    expect([undefined, '', 'false', '0'].map((CI) => isCi({ CI }))).toEqual([false, false, false, false]);
    expect(['true', '1', 'yes'].map((CI) => isCi({ CI }))).toEqual([true, true, true]);
  });
});

describe('describeIfAvailable', () => {
  it('throws in CI, naming what is missing', () => {
    expect(() => describeIfAvailable('DATABASE_URL is not set', { CI: 'true' })).toThrow(
      'DATABASE_URL is not set. In CI (CI=true) every service must be present',
    );
    expect(() => describeIfAvailable(undefined, { CI: 'true' })).not.toThrow();
    expect(() => describeIfAvailable('DATABASE_URL is not set', {})).not.toThrow();
  });
});

describe('the closing notice', () => {
  const rootDir = '/repo';
  const suite = (file: string, ...titles: string[]) => ({
    testFilePath: `${rootDir}/${file}`,
    testResults: [{ ancestorTitles: titles }],
  });

  it('reads the reason from the title describeIfAvailable gives a skipped suite, and lists the suites by reason', () => {
    const lines = noticeLines({
      testResults: [
        suite('a.int.spec.ts', `A ${SKIPPED_MARKER}DATABASE_URL is not set]`, 'inner'),
        suite('b.unit.spec.ts', 'B'),
        suite('c.int.spec.ts', `C ${SKIPPED_MARKER}DATABASE_URL is not set]`),
      ],
      rootDir,
      distributed: true,
      neutralSuites: [],
      distributedOnly: [],
    });
    expect(lines.slice(0, 4)).toEqual([
      'NOT TESTED in this run, and why:',
      '  2 suites skipped: DATABASE_URL is not set',
      '    a.int.spec.ts',
      '    c.int.spec.ts',
    ]);
  });

  it('lists the HTTP suites of the run that the missing distributed project would have run again, and its own', () => {
    const lines = noticeLines({
      testResults: [suite('apps/orgs.e2e.spec.ts', 'orgs'), suite('apps/main.e2e.spec.ts', 'main')],
      rootDir,
      distributed: false,
      neutralSuites: [`${rootDir}/apps/orgs.e2e.spec.ts`, `${rootDir}/apps/users.e2e.spec.ts`],
      distributedOnly: [`${rootDir}/tests/distributed/faults.e2e.spec.ts`],
    }).join('\n');
    expect(lines).toContain(
      '1 HTTP suite of this run not run again against gateway, command service and projector:\n      apps/orgs.e2e.spec.ts\n',
    );
    expect(lines).toContain(
      '1 suite that only the distributed project runs:\n      tests/distributed/faults.e2e.spec.ts',
    );
    expect(lines).not.toContain('users.e2e');
    expect(lines).not.toContain('main.e2e');
  });

  it('counts the suites of the run that the missing distributed-mongo project would have run again', () => {
    const lines = noticeLines({
      testResults: [
        suite('apps/orgs.e2e.spec.ts', 'orgs'),
        suite('apps/main.e2e.spec.ts', 'main'),
        suite('tests/distributed/faults.e2e.spec.ts', 'faults'),
      ],
      rootDir,
      distributed: true,
      distributedMongo: false,
      neutralSuites: [`${rootDir}/apps/orgs.e2e.spec.ts`],
      distributedOnly: [],
      distributedOnlyDir: `${rootDir}/tests/distributed`,
    });
    expect(lines).toContain(
      '  the distributed-mongo project did not run (MONGODB_URL is not set): 2 suites of this run not run again with the read models in MongoDB',
    );
  });

  it('is empty when nothing was left out', () => {
    expect(
      noticeLines({
        testResults: [suite('b.unit.spec.ts', 'B')],
        rootDir,
        distributed: false,
        neutralSuites: [],
        distributedOnly: [],
      }),
    ).toEqual([]);
  });
});
