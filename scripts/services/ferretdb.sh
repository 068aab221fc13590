#!/usr/bin/env bash
# Starts FerretDB v1.24.2, a MongoDB-wire-protocol server over PostgreSQL, for tests of MongoDB adapters (issue
# 16), and prints the MONGODB_URL to use.
#   scripts/services/ferretdb.sh        build the launcher (once, cached), start it on loopback, wait
#   scripts/services/ferretdb.sh stop   stop it
# Needs Go (the module proxy, for the first build: about 7 minutes cold) and the PostgreSQL of
# scripts/services/postgres.sh, which creates the backend database (arbor_ferretdb). Idempotent: safe to run again
# while FerretDB is up. The launcher (scripts/services/ferretdb/main.go) builds FerretDB's embeddable package:
# the release's own command panics on start when built with `go install`. v2 needs a PostgreSQL extension Debian
# lacks, so this stays on v1.24.2 with its PostgreSQL backend. FerretDB never reports telemetry from the
# embeddable package.
#
# Variables:
#   ARBOR_FERRETDB_PORT   the port to serve on (default 27018, beside a real MongoDB's 27017)
#   ARBOR_FERRETDB_PG_URL the backend (default postgres://arbor:arbor@127.0.0.1:${ARBOR_PG_PORT:-5432}/arbor_ferretdb)
#   ARBOR_SERVICES_DIR    state directory (default $HOME/.cache/arbor-services): the binary in
#                         ferretdb-<version>/, and per port a log and a pid file
set -euo pipefail

FERRETDB_VERSION=1.24.2
HOST=127.0.0.1
PORT=${ARBOR_FERRETDB_PORT:-27018}
PG_URL=${ARBOR_FERRETDB_PG_URL:-postgres://arbor:arbor@127.0.0.1:${ARBOR_PG_PORT:-5432}/arbor_ferretdb}

log() { echo "[ferretdb] $*"; }
fail() { echo "[ferretdb] ERROR: $*" >&2; exit 1; }

[[ "$PORT" =~ ^[0-9]+$ ]] && [ "$PORT" -ge 1 ] && [ "$PORT" -le 65535 ] ||
  fail "ARBOR_FERRETDB_PORT must be a port number (1 to 65535), not '$PORT'"

here=$(cd "$(dirname "$0")" && pwd)
base=${ARBOR_SERVICES_DIR:-$HOME/.cache/arbor-services}
bindir=$base/ferretdb-$FERRETDB_VERSION
binary=$bindir/ferretdb-launcher
home=$base/ferretdb-$PORT
logfile=$home/ferretdb.log
pidfile=$home/ferretdb.pid

port_open() { (exec 3<>"/dev/tcp/$HOST/$PORT") 2>/dev/null; }
running_pid() {
  [ -f "$pidfile" ] || return 1
  local pid
  pid=$(cat "$pidfile")
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && echo "$pid"
}

cmd=${1:-start}
if [ "$cmd" = stop ]; then
  if pid=$(running_pid); then
    log "stopping (pid $pid)"
    kill "$pid"
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  else
    log "not running"
  fi
  exit 0
fi
[ "$cmd" = start ] || fail "unknown command '$cmd' (start or stop)"

mkdir -p "$bindir" "$home"
if [ ! -x "$binary" ]; then
  command -v go >/dev/null 2>&1 || fail "go is needed to build FerretDB (once)"
  log "building FerretDB $FERRETDB_VERSION (once; about 7 minutes cold)"
  (cd "$here/ferretdb" && go build -trimpath -o "$binary.tmp" .) || fail "the build failed"
  mv "$binary.tmp" "$binary"
fi

url="mongodb://$HOST:$PORT/"
if pid=$(running_pid) && port_open; then
  log "already running (pid $pid)"
  echo "MONGODB_URL=$url"
  exit 0
fi
port_open && fail "port $PORT is taken by another process"

log "starting on $HOST:$PORT (log: $logfile)"
nohup "$binary" -listen "$HOST:$PORT" -postgresql-url "$PG_URL" >"$logfile" 2>&1 &
echo $! >"$pidfile"
for _ in $(seq 1 100); do
  port_open && break
  kill -0 "$(cat "$pidfile")" 2>/dev/null || fail "FerretDB exited during start: $(tail -5 "$logfile")"
  sleep 0.1
done
port_open || fail "FerretDB did not listen on $PORT within 10 s: $(tail -5 "$logfile")"
log "ready on $HOST:$PORT (pid $(cat "$pidfile"))"
echo "MONGODB_URL=$url"
