#!/usr/bin/env bash
# Starts a local PostgreSQL for the distributed profile's tests and prints the DATABASE_URL to use.
#   scripts/services/postgres.sh        install (Debian package) if absent, start, create role and databases
#   scripts/services/postgres.sh stop   stop the cluster
# Idempotent: safe to run again while the cluster is up. Needs root (apt-get, su postgres).
set -euo pipefail

PG_USER=arbor
PG_PASSWORD=arbor
PG_DATABASES=(arbor arbor_test)
PG_HOST=127.0.0.1

log() { echo "[postgres] $*"; }
fail() { echo "[postgres] ERROR: $*" >&2; exit 1; }

as_postgres() {
  # runuser is in util-linux (always there on Debian); fall back to su.
  if command -v runuser >/dev/null 2>&1; then runuser -u postgres -- "$@"; else su postgres -s /bin/sh -c "$(printf '%q ' "$@")"; fi
}

# The newest installed major version, and its first cluster (Debian creates "main" on install).
detect_cluster() {
  command -v pg_lsclusters >/dev/null 2>&1 || return 1
  local line
  line=$(pg_lsclusters --no-header 2>/dev/null | sort -k1,1V | tail -n 1)
  [ -n "$line" ] || return 1
  PG_VERSION=$(awk '{print $1}' <<<"$line")
  PG_CLUSTER=$(awk '{print $2}' <<<"$line")
  PG_PORT=$(awk '{print $3}' <<<"$line")
}

cmd=${1:-start}

if [ "$cmd" = stop ]; then
  if detect_cluster; then
    log "stopping cluster $PG_VERSION/$PG_CLUSTER"
    pg_ctlcluster "$PG_VERSION" "$PG_CLUSTER" stop || true
  else
    log "no cluster installed: nothing to stop"
  fi
  exit 0
fi
[ "$cmd" = start ] || fail "unknown argument '$cmd' (use: start | stop)"

if ! detect_cluster; then
  [ "$(id -u)" = 0 ] || fail "PostgreSQL is not installed and installing it needs root"
  log "PostgreSQL not found: installing it from Debian (apt-get install -y postgresql)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq || fail "apt-get update failed"
  apt-get install -y -qq postgresql >/dev/null || fail "apt-get install postgresql failed"
  if ! detect_cluster; then
    # The package normally creates the "main" cluster; create it if a policy prevented that.
    v=$(ls /usr/lib/postgresql | sort -V | tail -n 1)
    [ -n "$v" ] || fail "postgresql installed but no server version under /usr/lib/postgresql"
    log "creating cluster $v/main"
    pg_createcluster "$v" main || fail "pg_createcluster $v main failed"
    detect_cluster || fail "no PostgreSQL cluster after installation"
  fi
fi
log "cluster $PG_VERSION/$PG_CLUSTER on port $PG_PORT"

if pg_isready -q -h "$PG_HOST" -p "$PG_PORT"; then
  log "already running"
else
  log "starting: pg_ctlcluster $PG_VERSION $PG_CLUSTER start"
  pg_ctlcluster "$PG_VERSION" "$PG_CLUSTER" start ||
    fail "pg_ctlcluster $PG_VERSION $PG_CLUSTER start failed; see /var/log/postgresql/postgresql-$PG_VERSION-$PG_CLUSTER.log"
  for _ in $(seq 1 60); do
    pg_isready -q -h "$PG_HOST" -p "$PG_PORT" && break
    sleep 0.5
  done
  pg_isready -q -h "$PG_HOST" -p "$PG_PORT" ||
    fail "not accepting connections on $PG_HOST:$PG_PORT after 30 s; see /var/log/postgresql/postgresql-$PG_VERSION-$PG_CLUSTER.log"
  log "ready on $PG_HOST:$PG_PORT"
fi

psql_admin() { as_postgres psql -X -q -v ON_ERROR_STOP=1 -p "$PG_PORT" -d postgres "$@"; }

if [ "$(psql_admin -tAc "SELECT 1 FROM pg_roles WHERE rolname = '$PG_USER'")" = 1 ]; then
  log "role $PG_USER exists (resetting its password)"
  psql_admin -c "ALTER ROLE $PG_USER WITH LOGIN PASSWORD '$PG_PASSWORD'" || fail "could not alter role $PG_USER"
else
  log "creating role $PG_USER"
  psql_admin -c "CREATE ROLE $PG_USER WITH LOGIN PASSWORD '$PG_PASSWORD'" || fail "could not create role $PG_USER"
fi
for db in "${PG_DATABASES[@]}"; do
  if [ "$(psql_admin -tAc "SELECT 1 FROM pg_database WHERE datname = '$db'")" = 1 ]; then
    log "database $db exists"
  else
    log "creating database $db"
    psql_admin -c "CREATE DATABASE $db OWNER $PG_USER" || fail "could not create database $db"
  fi
done

# Check the URL the tests will use: TCP with a password (Debian's pg_hba allows scram on 127.0.0.1).
url="postgres://$PG_USER:$PG_PASSWORD@$PG_HOST:$PG_PORT/arbor_test"
PGPASSWORD=$PG_PASSWORD psql -X -q -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" -d arbor_test -tAc 'SELECT 1' >/dev/null ||
  fail "cannot log in as $PG_USER over TCP ($url); check pg_hba.conf of $PG_VERSION/$PG_CLUSTER"
log "ready"
echo "DATABASE_URL=$url"
