// ESLint flat config for the whole workspace (run per project by the Nx `lint` target: `npx nx lint <project>`).
// Rule set: @nx/eslint-plugin's flat TypeScript preset (eslint recommended + typescript-eslint recommended) and
// eslint-config-prettier (formatting belongs to Prettier, never to lint), plus the layer rules below.
import { readFileSync } from 'node:fs';
import nx from '@nx/eslint-plugin';
import jsoncParser from 'jsonc-eslint-parser';

/**
 * npm packages are declared once, in the root package.json (one lockfile, one version each): the dependency
 * check below therefore looks at workspace libs only, so it ignores every package the root declares.
 */
const rootPackage = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8'));
const NPM_PACKAGES = Object.keys({ ...rootPackage.dependencies, ...rootPackage.devDependencies });

/** Test code: specs and the helpers only specs import (excluded from every build, see each tsconfig.json). */
const TEST_FILES = ['**/*.spec.ts', '**/*.test-support.ts', '**/test-support/**/*.ts'];

/**
 * The layers (tags in each project.json) and what each may import. A lib never imports an app (no lib lists
 * `layer:app`), domain imports no other project, and adapters never import each other (`layer:adapter` is not
 * in its own list). `layer:testing` (libs/testing: conformance suites, service gates) is for test code only.
 */
const productionConstraints = [
  { sourceTag: 'layer:domain', onlyDependOnLibsWithTags: ['layer:domain'] },
  { sourceTag: 'layer:http', onlyDependOnLibsWithTags: ['layer:http'] },
  { sourceTag: 'layer:application', onlyDependOnLibsWithTags: ['layer:domain'] },
  { sourceTag: 'layer:api', onlyDependOnLibsWithTags: ['layer:domain', 'layer:application', 'layer:http'] },
  { sourceTag: 'layer:adapter', onlyDependOnLibsWithTags: ['layer:domain', 'layer:application'] },
  { sourceTag: 'layer:testing', onlyDependOnLibsWithTags: ['layer:domain', 'layer:application'] },
  // libs/runtime: what every app shares at start-up (validated configuration, shutdown), over api and application.
  {
    sourceTag: 'layer:runtime',
    onlyDependOnLibsWithTags: ['layer:domain', 'layer:application', 'layer:http', 'layer:api'],
  },
  // libs/read-side: the distributed profile's choice of read-model adapter (READ_MODELS_URL), made once for every
  // app; the one lib that may import several adapters, since they must not import each other.
  {
    sourceTag: 'layer:composition',
    onlyDependOnLibsWithTags: ['layer:domain', 'layer:application', 'layer:api', 'layer:adapter', 'layer:runtime'],
  },
  {
    sourceTag: 'layer:app',
    onlyDependOnLibsWithTags: [
      'layer:domain',
      'layer:application',
      'layer:http',
      'layer:api',
      'layer:adapter',
      'layer:runtime',
      'layer:composition',
    ],
  },
  {
    sourceTag: 'layer:system-test',
    onlyDependOnLibsWithTags: [
      'layer:domain',
      'layer:application',
      'layer:http',
      'layer:api',
      'layer:adapter',
      'layer:testing',
      'layer:runtime',
      'layer:composition',
      'layer:app',
    ],
  },
];

/** Test code may also use libs/testing; the layer rules otherwise stay as strict as in production code. */
const testConstraints = productionConstraints.map((constraint) =>
  constraint.sourceTag === 'layer:system-test'
    ? constraint
    : { ...constraint, onlyDependOnLibsWithTags: [...constraint.onlyDependOnLibsWithTags, 'layer:testing'] },
);

const boundaries = (depConstraints, allow = []) => ({
  '@nx/enforce-module-boundaries': ['error', { enforceBuildableLibDependency: false, allow, depConstraints }],
});

export default [
  { ignores: ['**/dist/**', '**/node_modules/**', 'bench/**', '.schemathesis/**', 'docs/**', 'coverage/**'] },
  ...nx.configs['flat/base'],
  ...nx.configs['flat/typescript'],
  ...nx.configs['flat/javascript'],
  {
    files: ['**/*.ts'],
    rules: {
      // typescript-eslint's recommended value (the Nx preset turns it off): ES imports only.
      '@typescript-eslint/no-require-imports': 'error',
      // A leading underscore marks a parameter or binding kept for its position or shape.
      '@typescript-eslint/no-unused-vars': [
        'error',
        {
          argsIgnorePattern: '^_',
          varsIgnorePattern: '^_',
          destructuredArrayIgnorePattern: '^_',
          ignoreRestSiblings: true,
        },
      ],
      '@typescript-eslint/no-explicit-any': 'error',
      // Non-null assertions state invariants the compiler cannot see (a row just inserted, a match group).
      '@typescript-eslint/no-non-null-assertion': 'off',
      // New in ESLint 10's recommended set; the code predates both (a later pass may adopt them).
      'no-useless-assignment': 'off',
      'preserve-caught-error': 'off',
      ...boundaries(productionConstraints),
    },
  },
  {
    files: TEST_FILES,
    rules: {
      // Tests poke at untyped JSON bodies, stub ports with empty methods and count in comma expressions.
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-empty-function': 'off',
      '@typescript-eslint/no-unused-expressions': 'off',
      ...boundaries(testConstraints),
    },
  },
  // Explicit spec-only exceptions. Each is a test-only edge, never a build dependency (the importing project's
  // tsconfig.json lists it under nx.sync.ignoredDependencies, or libs/testing drops it by implicitDependencies).
  // kafka's bus tests use the real SQLite event store as the log they publish from:
  { files: ['libs/kafka/src/**/*.spec.ts'], rules: boundaries(testConstraints, ['@arbor/sqlite']) },
  // the CLI's reset-admin-password test starts the standalone app whose admin it resets:
  { files: ['apps/cli/src/**/*.spec.ts'], rules: boundaries(testConstraints, ['../../standalone/src/**']) },
  // libs/testing's own spec checks the notice of the root Jest reporter (tests/support, part of jest.config.js):
  { files: ['libs/testing/src/**/*.spec.ts'], rules: boundaries(testConstraints, ['../../../tests/support/**']) },
  {
    files: ['tests/**/*.ts'],
    // The system tests drive the apps through the standalone app's test support (test-app, fixtures), and
    // compose the distributed processes from their start* functions (tests/distributed/start-functions).
    rules: boundaries(productionConstraints, [
      '../../apps/standalone/src/**',
      '../../apps/command-service/src/**',
      '../../apps/gateway/src/**',
      '../../apps/projector/src/**',
    ]),
  },
  {
    // A package.json's `dependencies` name exactly the workspace libs its production code imports (what its
    // build needs): missing and stale entries fail the lint; `--fix` writes them. Test code is not counted.
    files: ['libs/*/package.json', 'apps/*/package.json'],
    languageOptions: { parser: jsoncParser },
    rules: {
      '@nx/dependency-checks': [
        'error',
        {
          ignoredFiles: TEST_FILES.map((glob) => `{projectRoot}/${glob}`),
          ignoredDependencies: NPM_PACKAGES,
          checkVersionMismatches: false,
        },
      ],
    },
  },
];
