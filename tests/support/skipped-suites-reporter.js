/**
 * Jest reporter: closes a run with what it did NOT test and why, so that a run without PostgreSQL or Kafka
 * never looks like a full one.
 *
 * - Suites skipped for want of a service: every suite whose title carries the marker that
 *   libs/testing/src/services.ts (`describeIfAvailable`) appends, `[skipped: <reason>]`, grouped by reason
 *   (reasons and files in alphabetical order).
 * - The distributed project, when jest.config.js left it out (DATABASE_URL or KAFKA_BROKERS unset): the
 *   profile-neutral HTTP suites of this run that it would have run again, and the distributed-only suites
 *   (tests/distributed/) that match this run's path patterns.
 *
 * - The distributed-mongo project, when the distributed one ran but MONGODB_URL is unset: how many suites of
 *   this run it would have run again with the read models in MongoDB.
 *
 * Options (from jest.config.js): `{ distributed: boolean, distributedMongo: boolean, neutralSuites: string[]
 * (absolute paths), distributedOnlyDir: string (absolute) }`. Writes to stderr, as Jest's default reporter does; prints nothing
 * when nothing was left out.
 */
const fs = require('node:fs');
const path = require('node:path');

/** Keep in step with SKIPPED_MARKER in libs/testing/src/services.ts. */
const MARKER = /\[skipped: (.*)\]$/;

/**
 * The reason each suite of `testResults` was skipped, from its suites' titles: `[{ file, reason }]`, one per
 * file (the first reason found), files in the order given. `file` is the absolute test file path.
 */
function skippedForServices(testResults) {
  const found = [];
  for (const suite of testResults) {
    for (const test of suite.testResults ?? []) {
      const match = (test.ancestorTitles ?? []).map((title) => MARKER.exec(title)).find(Boolean);
      if (match) {
        found.push({ file: suite.testFilePath, reason: match[1] });
        break;
      }
    }
  }
  return found;
}

/** The closing notice's lines (no trailing newline), or [] when nothing was left out. */
function noticeLines({
  testResults,
  rootDir,
  distributed,
  distributedMongo = distributed,
  neutralSuites,
  distributedOnly,
  distributedOnlyDir,
}) {
  const rel = (file) => path.relative(rootDir, file);
  const lines = [];
  const skipped = skippedForServices(testResults);
  const byReason = new Map();
  for (const { file, reason } of skipped) byReason.set(reason, [...(byReason.get(reason) ?? []), file]);
  // Sorted, so that the notice does not depend on the order suites happened to finish in.
  for (const [reason, files] of [...byReason].sort(([a], [b]) => a.localeCompare(b))) {
    files.sort();
    lines.push(`  ${files.length} suite${files.length === 1 ? '' : 's'} skipped: ${reason}`);
    for (const file of files) lines.push(`    ${rel(file)}`);
  }
  if (!distributed) {
    const ran = new Set(testResults.map((suite) => suite.testFilePath));
    const again = neutralSuites.filter((file) => ran.has(file)).sort();
    if (again.length + distributedOnly.length > 0) {
      const unset = ['DATABASE_URL', 'KAFKA_BROKERS'].filter((name) => !process.env[name]).join(' and ');
      lines.push(`  the distributed project did not run (${unset} ${unset.includes(' and ') ? 'are' : 'is'} not set):`);
      if (again.length > 0) {
        lines.push(
          `    ${again.length} HTTP suite${again.length === 1 ? '' : 's'} of this run not run again against gateway, command service and projector:`,
        );
        for (const file of again) lines.push(`      ${rel(file)}`);
      }
      if (distributedOnly.length > 0) {
        lines.push(
          `    ${distributedOnly.length} suite${distributedOnly.length === 1 ? '' : 's'} that only the distributed project runs:`,
        );
        for (const file of distributedOnly) lines.push(`      ${rel(file)}`);
      }
    }
  }
  if (distributed && !distributedMongo) {
    const ran = new Set(testResults.map((suite) => suite.testFilePath));
    const inDir = (file) => distributedOnlyDir !== undefined && file.startsWith(distributedOnlyDir + path.sep);
    const count = [...ran].filter((file) => neutralSuites.includes(file) || inDir(file)).length;
    if (count > 0)
      lines.push(
        `  the distributed-mongo project did not run (MONGODB_URL is not set): ${count} suite${count === 1 ? '' : 's'} ` +
          'of this run not run again with the read models in MongoDB',
      );
  }
  if (lines.length === 0) return [];
  return [
    'NOT TESTED in this run, and why:',
    ...lines,
    '  To run them, set the variables named above (README, "Tests": the service scripts print them).',
    '  With CI=true a missing service fails the run instead of being left out.',
  ];
}

class SkippedSuitesReporter {
  constructor(globalConfig, options = {}) {
    this.globalConfig = globalConfig;
    this.options = options;
  }

  /** Files of `distributedOnlyDir` ending in `.spec.ts` that this run's path patterns select. */
  distributedOnly() {
    const dir = this.options.distributedOnlyDir;
    if (this.options.distributed || !dir || !fs.existsSync(dir)) return [];
    const patterns = this.globalConfig.testPathPatterns;
    const executor =
      patterns && patterns.isSet() ? patterns.toExecutor({ rootDir: this.globalConfig.rootDir }) : undefined;
    return fs
      .readdirSync(dir)
      .filter((name) => name.endsWith('.spec.ts'))
      .map((name) => path.join(dir, name))
      .filter((file) => !executor || executor.isMatch(file))
      .sort();
  }

  onRunComplete(_contexts, results) {
    const lines = noticeLines({
      testResults: results.testResults,
      rootDir: this.globalConfig.rootDir,
      distributed: Boolean(this.options.distributed),
      distributedMongo: Boolean(this.options.distributedMongo ?? this.options.distributed),
      distributedOnlyDir: this.options.distributedOnlyDir,
      neutralSuites: this.options.neutralSuites ?? [],
      distributedOnly: this.distributedOnly(),
    });
    if (lines.length > 0) process.stderr.write(`\n${lines.join('\n')}\n`);
  }
}

module.exports = SkippedSuitesReporter;
module.exports.noticeLines = noticeLines;
module.exports.skippedForServices = skippedForServices;
