#!/usr/bin/env bash
# Fuzzes the running API against its own OpenAPI document with schemathesis (`npm run test:schemathesis`):
# starts the built embedded app on a free loopback port over a temporary data directory (response validation
# on, so a response that breaks its declared schema is a 500 that schemathesis reports), logs the platform
# admin in, and runs every schemathesis check with a bounded number of examples and a fixed seed. Any finding
# fails the run. Schemathesis (PyPI) is installed once into a virtualenv under the services directory.
#   SCHEMATHESIS_MAX_EXAMPLES (default 25)   test cases per operation and phase
set -euo pipefail
cd "$(dirname "$0")/.."

VERSION=4.32.5
base=${ARBOR_SERVICES_DIR:-$HOME/.cache/arbor-services}
venv=$base/schemathesis-$VERSION
log() { echo "[schemathesis] $*"; }

# A virtualenv is not relocatable (its scripts' #! lines name its own path), so it is built where it is used, and
# only one holding the marker written after a complete install is trusted; anything else there is rebuilt.
if [ ! -f "$venv/.installed" ]; then
  log "installing schemathesis $VERSION into $venv"
  mkdir -p "$base"
  rm -rf "$venv"
  if ! python3 -m venv "$venv" 2>/dev/null; then
    # Debian ships venv separately; the service scripts install with apt-get as well.
    command -v apt-get >/dev/null 2>&1 || { echo "[schemathesis] python3 with venv is needed" >&2; exit 1; }
    apt-get install -y --no-install-recommends python3-venv >/dev/null
    rm -rf "$venv"
    python3 -m venv "$venv"
  fi
  "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$VERSION"
  touch "$venv/.installed"
fi

[ -f apps/standalone/dist/main.js ] || { echo "[schemathesis] build first (npm run build)" >&2; exit 1; }

data=$(mktemp -d "${TMPDIR:-/tmp}/arbor-schemathesis-XXXXXX")
port=$(node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")
password="schemathesis-$(node -e "console.log(require('crypto').randomBytes(12).toString('hex'))")"
url="http://127.0.0.1:$port"

PORT=$port HOST=127.0.0.1 IAM_DATA_DIR=$data IAM_ISSUER=$url IAM_LOG_LEVEL=error IAM_VALIDATE_RESPONSES=true \
  IAM_BOOTSTRAP_ADMIN_EMAIL=admin@example.test IAM_BOOTSTRAP_ADMIN_PASSWORD=$password \
  node apps/standalone/dist/main.js >"$data/server.log" 2>&1 &
server=$!
cleanup() {
  kill "$server" 2>/dev/null || true
  wait "$server" 2>/dev/null || true
  rm -rf "$data"
}
trap cleanup EXIT

for _ in $(seq 1 100); do
  curl -sf "$url/readyz" >/dev/null 2>&1 && break
  kill -0 "$server" 2>/dev/null || { cat "$data/server.log" >&2; exit 1; }
  sleep 0.2
done

token=$(curl -sf "$url/api/v1/auth/tokens" --data-urlencode grant_type=password --data-urlencode username=admin@example.test \
  --data-urlencode "password=$password" | node -e "let s='';process.stdin.on('data',d=>s+=d).on('end',()=>console.log(JSON.parse(s).access_token))")

account=$(curl -sf "$url/api/v1/users/me" -H "Authorization: Bearer $token" | node -e "let s='';process.stdin.on('data',d=>s+=d).on('end',()=>console.log(JSON.parse(s).id))")

# Every operation is fuzzed, the AuthZEN routes (/access/v1) included; schemathesis_hooks.py says which
# schema-valid answers the contract defines that no schema can rule out (a forged search page token, a
# min_position beyond the log's end) and how the run keeps them from counting as findings.
log "fuzzing $url/api/v1/openapi.json"
# Under CI the report goes to a file and the log gets one line of ours (the whole report when there is a finding):
# schemathesis ends in pytest's words ("== 2 warnings in 17.67s =="), which a reader of the CI log takes for a
# pytest run of no test, after the Jest summary that counts the tests.
report=
if [ -n "${CI:-}" ]; then
  report=${SCHEMATHESIS_REPORT:-$PWD/.schemathesis-report.txt}
  exec 3>&1 4>&2 >"$report" 2>&1
fi
status=0
# env -u FORCE_COLOR: rich counts any FORCE_COLOR, even 0, as "force colour" (CI sets it 0 for Jest, NO_COLOR for this).
env -u FORCE_COLOR ARBOR_FUZZ_ACCOUNT_ID=$account SCHEMATHESIS_HOOKS=schemathesis_hooks PYTHONPATH=scripts "$venv/bin/schemathesis" run "$url/api/v1/openapi.json" \
  --checks all \
  --header "Authorization: Bearer $token" \
  --max-examples "${SCHEMATHESIS_MAX_EXAMPLES:-25}" \
  --seed 1 \
  --generation-database none \
  --workers 1 \
  --no-color \
  "$@" || status=$?
if [ -n "$report" ]; then
  exec 1>&3 2>&4 3>&- 4>&-
  if [ "$status" -eq 0 ]; then
    operations=$(sed -n 's/^ *Tested: *\([0-9]*\).*/\1/p' "$report" | tail -n 1)
    cases=$(sed -n 's/^ *\([0-9]*\) generated.*/\1/p' "$report" | tail -n 1)
    log "no finding: ${operations:-?} operations, ${cases:-?} generated cases, every check (report: $report)"
  else
    cat "$report"
  fi
fi
if [ "$status" -ne 0 ]; then
  log "server log:"; tail -n 50 "$data/server.log" >&2
fi
exit "$status"
