/**
 * One Jest run for the whole monorepo. Test files are suffixed by tier:
 * `*.unit.spec.ts` (pure logic), `*.int.spec.ts` (a real engine: SQLite, PostgreSQL, Kafka),
 * `*.e2e.spec.ts` (HTTP against a started app). Libraries resolve to their sources, so tests need no build
 * (the e2e tests that start built processes build first; `npm test` always does).
 *
 * Four projects: `embedded` runs everything; `embedded-workers` runs the HTTP suites again with IAM_WORKERS=2 (two
 * HTTP worker processes beside the writer: tests/workers/profile.setup.js), and a few embedded-only suites whose
 * subject crosses processes there (WORKERS_EXTRA_SUITES); `distributed` runs the HTTP suites again against gateway,
 * command service and projector as separate processes over PostgreSQL and Kafka. It exists when
 * DATABASE_URL and KAFKA_BROKERS are set, as they always are in CI (.ci/run starts both services).
 * `distributed-mongo` runs the same suites once more with the read models in MongoDB (READ_MODELS_URL set to
 * MONGODB_URL, a database of its own per started stack: tests/distributed/profile-mongo.setup.js); it exists
 * when MONGODB_URL is set as well (.ci/run starts FerretDB).
 *
 * Nothing is left out silently: without those variables, the run closes with a notice naming every suite it
 * did not run and why (tests/support/skipped-suites-reporter.js); with `CI` set (not `false`/`0`), a missing
 * service fails the run instead (here for the distributed project, in libs/testing/src/services.ts for the
 * suites that need PostgreSQL or Kafka).
 */
const path = require('node:path');

const swc = [
  '@swc/jest',
  {
    jsc: { target: 'es2022', parser: { syntax: 'typescript' }, keepClassNames: true },
    module: { type: 'commonjs' },
    sourceMaps: 'inline',
  },
];

const base = {
  testEnvironment: 'node',
  transform: { '^.+\\.(t|j|mj)s$': swc },
  // jose, openid-client, oauth4webapi and unicode-case-folding ship ESM only: let them through the transform.
  transformIgnorePatterns: ['/node_modules/(?!(jose|openid-client|oauth4webapi|unicode-case-folding)/)'],
  moduleNameMapper: { '^@arbor/(.*)$': '<rootDir>/libs/$1/src/index.ts' },
  rootDir: __dirname,
};

/** The HTTP suites that describe the contract, not one profile's files. */
const PROFILE_NEUTRAL_SUITES = [
  'orgs',
  'event-chain',
  'erasure',
  'conditional-requests',
  'resource-versions',
  'client-credentials',
  'client-roles',
  'http-rules',
  'input-rules',
  'auth',
  'concurrency',
  'durability',
  'events',
  'users',
  'access-control',
  'tenant-boundaries',
  'tokens',
  'oauth-interop',
  'oauth-endpoints',
  'token-rights',
  'throttling',
  'request-input',
  'passwords',
  'cors',
  'event-catalogue',
  'custom-roles',
  'custom-roles-grants',
  'custom-roles-search',
  'custom-roles-edge',
  'authzen-evaluation',
  'authzen-search',
  'authzen-document',
  'org-metadata-document',
  'org-tokens',
  'point-in-time',
  'auditor-past',
  'past-lineage',
  'reach-in-lists',
  'audit-data',
  'audit-retention',
  'sign-in-audit',
  'webhooks',
  'webhook-delivery',
  'graceful-close',
];

const embedded = {
  ...base,
  displayName: 'embedded',
  testMatch: ['<rootDir>/libs/*/src/**/*.spec.ts', '<rootDir>/apps/*/src/**/*.spec.ts', '<rootDir>/tests/**/*.spec.ts'],
  testPathIgnorePatterns: ['/node_modules/', '<rootDir>/tests/distributed/'],
};

const distributed = {
  ...base,
  displayName: 'distributed',
  testMatch: [
    ...PROFILE_NEUTRAL_SUITES.map((name) => `<rootDir>/apps/standalone/src/${name}.e2e.spec.ts`),
    '<rootDir>/tests/distributed/**/*.spec.ts',
  ],
  // tests/distributed/mongo-*: what only the distributed-mongo project runs.
  testPathIgnorePatterns: ['/node_modules/', '<rootDir>/tests/distributed/mongo-'],
  setupFiles: ['<rootDir>/tests/distributed/profile.setup.js'],
};

const distributedMongo = {
  ...distributed,
  displayName: 'distributed-mongo',
  testPathIgnorePatterns: ['/node_modules/'],
  setupFiles: ['<rootDir>/tests/distributed/profile-mongo.setup.js'],
};

/**
 * Embedded-only suites that run with workers as well, because what they check crosses processes there: a key
 * rotated or revoked by `arbor keys` is seen by every worker; a min_position answer after projection resumes (a
 * waiting worker makes the writer's projector catch up); the data directory's files, the writer's socket among them
 * (modes; no copy of an erased user's data). Not here: disk-full (it fills the writer's own SQLite connections, which
 * the workers do not share).
 */
const WORKERS_EXTRA_SUITES = [
  'apps/standalone/src/authzen-freshness',
  'apps/standalone/src/erasure-at-rest',
  'apps/standalone/src/embedded-files',
  'apps/cli/src/keys-rotate',
];

/** The HTTP suites again on the embedded profile with IAM_WORKERS=2: two HTTP worker processes beside the writer. */
const embeddedWorkers = {
  ...base,
  displayName: 'embedded-workers',
  testMatch: [
    ...PROFILE_NEUTRAL_SUITES.map((name) => `<rootDir>/apps/standalone/src/${name}.e2e.spec.ts`),
    ...WORKERS_EXTRA_SUITES.map((name) => `<rootDir>/${name}.e2e.spec.ts`),
  ],
  setupFiles: ['<rootDir>/tests/workers/profile.setup.js'],
};

const withServices = Boolean(process.env.DATABASE_URL && process.env.KAFKA_BROKERS);
const withMongo = withServices && Boolean(process.env.MONGODB_URL);
const ci = process.env.CI;
if (!withMongo && ci !== undefined && ci !== '' && ci !== 'false' && ci !== '0') {
  const unset = ['DATABASE_URL', 'KAFKA_BROKERS', 'MONGODB_URL'].filter((name) => !process.env[name]);
  const names = unset.length === 1 ? unset[0] : `${unset.slice(0, -1).join(', ')} and ${unset[unset.length - 1]}`;
  throw new Error(
    `CI=${ci} but ${names} ${unset.length > 1 ? 'are' : 'is'} not set: in CI the distributed and distributed-mongo ` +
      'projects must run (.ci/run starts PostgreSQL, FerretDB and Kafka with scripts/services/*.sh and exports what ' +
      'they print).',
  );
}

module.exports = {
  projects: [
    embedded,
    embeddedWorkers,
    ...(withServices ? [distributed] : []),
    ...(withMongo ? [distributedMongo] : []),
  ],
  testTimeout: 60000,
  // One temporary directory per run, removed at its end (tests/support/temp-root.js).
  globalSetup: '<rootDir>/tests/support/temp-root.setup.js',
  globalTeardown: '<rootDir>/tests/support/temp-root.teardown.js',
  reporters: [
    'default',
    [
      '<rootDir>/tests/support/skipped-suites-reporter.js',
      {
        distributed: withServices,
        distributedMongo: withMongo,
        neutralSuites: PROFILE_NEUTRAL_SUITES.map((name) =>
          path.join(__dirname, 'apps/standalone/src', `${name}.e2e.spec.ts`),
        ),
        distributedOnlyDir: path.join(__dirname, 'tests/distributed'),
      },
    ],
  ],
};
