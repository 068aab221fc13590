#!/usr/bin/env bash
# Runs the Jest suites of one tier of one Nx project: `bash scripts/nx-jest.sh <projectRoot> <unit|int|e2e> [jest args]`.
# It is the command of the Nx targets test-unit, test-int and test-e2e (nx.json targetDefaults). It uses the one
# root jest.config.js, so a suite runs in every Jest project that matches it: the HTTP e2e suites listed in
# PROFILE_NEUTRAL_SUITES run in `embedded`, `distributed` and `distributed-mongo`, exactly as in a whole-repo `jest` run.
# Tiers are file suffixes: *.unit.spec.ts, *.int.spec.ts, *.e2e.spec.ts. A project with no suite of the tier
# exits 0 without starting Jest (Jest's start-up alone costs seconds, times 15 projects).
set -euo pipefail
root=${1:?projectRoot} tier=${2:?tier: unit, int or e2e}
shift 2
case $tier in unit|int|e2e) ;; *) echo "nx-jest.sh: unknown tier '$tier' (unit, int or e2e)" >&2; exit 2 ;; esac
cd "$(dirname "$0")/.."
if [ -z "$(find "$root" -path '*/node_modules' -prune -o -path '*/dist' -prune -o -name "*.$tier.spec.ts" -print -quit)" ]; then
  echo "no *.$tier.spec.ts suite in $root"
  exit 0
fi
# Absolute path prefix: Jest matches patterns against absolute test paths, and `tests` must not match
# `libs/x/src/tests/...`. In band: the suites share PostgreSQL, Kafka and ports (as the root run always did);
# except the HTTP e2e suites of apps/standalone (185 runs over the four Jest projects, most of CI's time), two at a
# time (ARBOR_E2E_WORKERS): each starts its own app on free ports, a distributed stack in a PostgreSQL schema and
# Kafka topic of its own (test-support/distributed-stack.ts), and none stops a shared service (the broker-restart and
# fault suites are in libs/kafka and tests/, still in band). A stack opens up to ~100 PostgreSQL connections and a
# few suites hold two or three at once:
# scripts/services/postgres.sh raises max_connections to 500. Ports of stacks: freePort in test-support/distributed-stack.ts.
workers=(--runInBand)
if [ "$root" = apps/standalone ] && [ "$tier" = e2e ]; then
  n=${ARBOR_E2E_WORKERS:-2}
  [[ "$n" =~ ^[1-9][0-9]*$ ]] || { echo "nx-jest.sh: ARBOR_E2E_WORKERS must be a positive number, not '$n'" >&2; exit 2; }
  [ "$n" = 1 ] || workers=(--maxWorkers="$n")
fi
report=()
# `npm test` (scripts/test.sh) sums these JSON reports into one summary at the end.
if [ -n "${ARBOR_TEST_RESULTS:-}" ]; then
  report=(--json --outputFile "$ARBOR_TEST_RESULTS/${root//\//_}-$tier.json")
fi
# A CI log is read by programs as well as people: plain text there, with no colour codes between "Tests:" and
# its counts (Nx asks its tasks for colour).
if [ -n "${CI:-}" ]; then export FORCE_COLOR=0; fi
# --forceExit: once every suite has run and reported, a process a failed test left behind (a stack that never
# became ready) must not keep the run from ending: a CI proof hung 40 minutes that way after writing its results.
exec node_modules/.bin/jest "${workers[@]}" --forceExit --testPathPatterns "^$PWD/$root/.*\\.$tier\\.spec\\.ts\$" ${report[@]+"${report[@]}"} "$@"
