/**
 * Jest globalSetup and globalTeardown: every temporary file and directory of one Jest run goes under one directory
 * of its own, removed when the run ends. Tests make their data directories with `mkdtempSync(join(tmpdir(), ...))`
 * and the apps they start make sockets and seeds under `os.tmpdir()` too; pointing TMPDIR (which os.tmpdir() reads
 * at every call, and which the test workers and the processes they start inherit) at the run's directory collects
 * them, where each test removing its own would break the tests that restart an app on the same directory. Before,
 * every run left its data directories behind (thousands, tens of GB in /tmp after a few full runs).
 *
 * `ARBOR_TEST_KEEP_TMP=1` keeps the directory (its path is printed) for looking at what a failed test left.
 */
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

/** Under the directory the run started with, so that the setting of the caller (CI, a developer) still counts. */
async function setup() {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'arbor-jest-'));
  // Others may pass through, as through /tmp (its entries stay as private as mkdtemp makes them: 0700): the service
  // scripts' tests hand a directory of theirs to PostgreSQL, which runs as the postgres user.
  fs.chmodSync(root, 0o755);
  process.env.ARBOR_TEST_TMP_ROOT = root;
  process.env.TMPDIR = root;
}

async function teardown() {
  const root = process.env.ARBOR_TEST_TMP_ROOT;
  if (!root) return;
  if (process.env.ARBOR_TEST_KEEP_TMP === '1') {
    process.stderr.write(`\nARBOR_TEST_KEEP_TMP=1: this run's temporary files are in ${root}\n`);
    return;
  }
  fs.rmSync(root, { recursive: true, force: true, maxRetries: 5 });
}

module.exports = { setup, teardown };
