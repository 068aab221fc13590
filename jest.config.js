/**
 * One Jest run for the whole monorepo. Test files are suffixed by tier:
 * `*.unit.spec.ts` (pure logic), `*.int.spec.ts` (a real engine: SQLite, later PostgreSQL and Kafka),
 * `*.e2e.spec.ts` (HTTP against a started app). Libraries resolve to their sources, so tests need no build.
 */
const swc = [
  '@swc/jest',
  {
    jsc: { target: 'es2022', parser: { syntax: 'typescript' }, keepClassNames: true },
    module: { type: 'commonjs' },
    sourceMaps: 'inline',
  },
];

module.exports = {
  testEnvironment: 'node',
  transform: { '^.+\\.(t|j|mj)s$': swc },
  // jose, openid-client and oauth4webapi ship ESM only: let them through the transform.
  transformIgnorePatterns: ['/node_modules/(?!(jose|openid-client|oauth4webapi)/)'],
  moduleNameMapper: { '^@arbor/(.*)$': '<rootDir>/libs/$1/src/index.ts' },
  testMatch: ['<rootDir>/libs/*/src/**/*.spec.ts', '<rootDir>/apps/*/src/**/*.spec.ts', '<rootDir>/tests/**/*.spec.ts'],
  testTimeout: 30000,
};
