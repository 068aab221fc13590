// Prints one summary of every Jest run of `npm test` (scripts/test.sh), in the lines Jest itself ends a run with:
//   Test Suites: 290 passed, 290 total
//   Tests:       2277 passed, 2277 total
// Input: a directory of Jest `--json` reports (scripts/nx-jest.sh writes one per project and tier when
// ARBOR_TEST_RESULTS is set). Exits 1 when a report records a failure or none was written at all: a test command
// that ran no test has not passed.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.argv[2];
if (!dir) {
  console.error('usage: node scripts/test-summary.mjs <directory of Jest --json reports>');
  process.exit(2);
}
const files = readdirSync(dir).filter((name) => name.endsWith('.json'));
const total = {
  runs: 0,
  suites: 0,
  suitesPassed: 0,
  suitesFailed: 0,
  tests: 0,
  passed: 0,
  failed: 0,
  skipped: 0,
  todo: 0,
};
for (const file of files) {
  const report = JSON.parse(readFileSync(join(dir, file), 'utf8'));
  total.runs += 1;
  total.suites += report.numTotalTestSuites;
  total.suitesPassed += report.numPassedTestSuites;
  // numFailedTestSuites already counts the suites that failed to run (numRuntimeErrorTestSuites).
  total.suitesFailed += report.numFailedTestSuites;
  total.suitesSkipped += report.numPendingTestSuites;
  total.tests += report.numTotalTests;
  total.passed += report.numPassedTests;
  total.failed += report.numFailedTests;
  total.skipped += report.numPendingTests;
  total.todo += report.numTodoTests;
}

/** Jest's order: failed, skipped, todo, passed, total; zero counts left out. */
function line(parts, count) {
  const shown = parts.filter(([n]) => n > 0).map(([n, word]) => `${n} ${word}`);
  return [...shown, `${count} total`].join(', ');
}
console.log(`\n== all Jest runs of npm test (${total.runs} runs, one per project and tier)`);
console.log(
  `Test Suites: ${line(
    [
      [total.suitesFailed, 'failed'],
      [total.suitesPassed, 'passed'],
    ],
    total.suites,
  )}`,
);
console.log(
  `Tests:       ${line(
    [
      [total.failed, 'failed'],
      [total.skipped, 'skipped'],
      [total.todo, 'todo'],
      [total.passed, 'passed'],
    ],
    total.tests,
  )}`,
);
if (total.runs === 0 || total.tests === 0) {
  console.error('no Jest report was written: no test ran');
  process.exit(1);
}
process.exit(total.failed > 0 || total.suitesFailed > 0 ? 1 : 0);
