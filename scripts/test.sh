#!/usr/bin/env bash
# The README's test command (`npm test`): Nx's sync check, then build, typecheck and lint of every project, then
# every test tier (test-unit, test-int, test-e2e) of every project, in every Jest project (embedded, distributed,
# distributed-mongo, as the services allow: jest.config.js), and at the end one
# summary of all those Jest runs in Jest's own words (scripts/test-summary.mjs), so the total is one line to read
# rather than the sum of some fifty. Extra arguments go to the test run-many (e.g. `npm test -- --projects=domain`).
set -euo pipefail
cd "$(dirname "$0")/.."
export NX_DAEMON=false
results=$PWD/.jest-results
rm -rf "$results"
mkdir -p "$results"
# scripts/nx-jest.sh writes each Jest run's JSON report here.
export ARBOR_TEST_RESULTS=$results
node_modules/.bin/nx sync:check
node_modules/.bin/nx run-many -t build typecheck lint --parallel=2 --outputStyle=static
# The summary is printed whether or not a tier failed; the exit status is the run's.
status=0
node_modules/.bin/nx run-many -t test-unit test-int test-e2e --parallel=2 --outputStyle=static "$@" || status=$?
node scripts/test-summary.mjs "$results" || [ "$status" -ne 0 ] || status=1
exit "$status"
