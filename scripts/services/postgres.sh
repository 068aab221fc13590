#!/usr/bin/env bash
# Starts a local PostgreSQL for the distributed profile's tests and prints the DATABASE_URL to use.
#   scripts/services/postgres.sh        install (Debian package) if absent, start, create role and databases
#   scripts/services/postgres.sh stop   stop the cluster
# Idempotent: safe to run again while the cluster is up. Needs root to install (apt-get) and to use Debian's
# cluster (su postgres).
#
# Variables (unset: the behaviour of before, Debian's cluster on 5432):
#   ARBOR_PG_PORT       the port to serve on. When it is set and no Debian cluster serves it, the script runs a
#                       cluster of its own on it, in ARBOR_SERVICES_DIR/postgres-<port> (initdb; data, log and
#                       socket there; as the postgres user when run by root, since the server refuses root),
#                       so that a second checkout gets its own PostgreSQL next to the first.
#   ARBOR_SERVICES_DIR  state of such clusters (default $HOME/.cache/arbor-services; run as root, it must be a
#                       directory the postgres user can reach, which /root is not).
#   ARBOR_PG_MAX_CONNECTIONS  the least max_connections the cluster must allow (default 500; raised with ALTER
#                       SYSTEM and a restart when lower, never lowered: the restart ends the sessions of anything
#                       else using that cluster, once). One distributed stack of the tests opens up to ~100
#                       connections (its processes' pools), a few suites hold two or three stacks at once, and the
#                       HTTP e2e suites run two at a time (scripts/nx-jest.sh): PostgreSQL's default 100 then refuses
#                       logins ("too many clients").
set -euo pipefail

PG_USER=arbor
PG_PASSWORD=arbor
PG_DATABASES=(arbor arbor_test arbor_ferretdb)
PG_HOST=127.0.0.1
REQUESTED_PORT=${ARBOR_PG_PORT:-}
MIN_CONNECTIONS=${ARBOR_PG_MAX_CONNECTIONS:-500}
BASE=${ARBOR_SERVICES_DIR:-$HOME/.cache/arbor-services}

log() { echo "[postgres] $*"; }
fail() { echo "[postgres] ERROR: $*" >&2; exit 1; }

if [ -n "$REQUESTED_PORT" ]; then
  [[ "$REQUESTED_PORT" =~ ^[0-9]+$ ]] && [ "$REQUESTED_PORT" -ge 1 ] && [ "$REQUESTED_PORT" -le 65535 ] ||
    fail "ARBOR_PG_PORT must be a port number (1 to 65535), not '$REQUESTED_PORT'"
fi
# No leading zero: postgresql.conf would read 0300 as octal.
[ "${1:-start}" = stop ] || { [[ "$MIN_CONNECTIONS" =~ ^[1-9][0-9]*$ ]] && [ "$MIN_CONNECTIONS" -ge 10 ] &&
  [ "$MIN_CONNECTIONS" -le 10000 ]; } ||
  fail "ARBOR_PG_MAX_CONNECTIONS must be a number from 10 to 10000, not '$MIN_CONNECTIONS'"

as_postgres() {
  # runuser is in util-linux (always there on Debian); fall back to su.
  if command -v runuser >/dev/null 2>&1; then runuser -u postgres -- "$@"; else su postgres -s /bin/sh -c "$(printf '%q ' "$@")"; fi
}

# A Debian cluster: the one on ARBOR_PG_PORT when it is set, else the newest version's first cluster
# (Debian creates "main" on install). Sets PG_VERSION, PG_CLUSTER, PG_PORT.
detect_cluster() {
  command -v pg_lsclusters >/dev/null 2>&1 || return 1
  local line
  line=$(pg_lsclusters --no-header 2>/dev/null | awk -v port="$REQUESTED_PORT" 'port == "" || $3 == port' | sort -k1,1V | tail -n 1)
  [ -n "$line" ] || return 1
  PG_VERSION=$(awk '{print $1}' <<<"$line")
  PG_CLUSTER=$(awk '{print $2}' <<<"$line")
  PG_PORT=$(awk '{print $3}' <<<"$line")
}

install_postgresql() {
  [ "$(id -u)" = 0 ] || fail "PostgreSQL is not installed and installing it needs root"
  log "PostgreSQL not found: installing it from Debian (apt-get install -y postgresql)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq || fail "apt-get update failed"
  apt-get install -y -qq postgresql >/dev/null || fail "apt-get install postgresql failed"
}

# The server binaries of the newest installed version (for a cluster of our own).
server_bin() {
  local v
  v=$(ls /usr/lib/postgresql 2>/dev/null | sort -V | tail -n 1)
  [ -n "$v" ] && [ -x "/usr/lib/postgresql/$v/bin/initdb" ] && echo "/usr/lib/postgresql/$v/bin" && return 0
  command -v pg_config >/dev/null 2>&1 && [ -x "$(pg_config --bindir)/initdb" ] && pg_config --bindir && return 0
  return 1
}

# Waits up to 30 s for the server to accept connections; fails with $1 (where to look) otherwise.
wait_ready() {
  for _ in $(seq 1 60); do
    pg_isready -q -h "$PG_HOST" -p "$PG_PORT" && return 0
    sleep 0.5
  done
  fail "not accepting connections on $PG_HOST:$PG_PORT after 30 s ($1)"
}

cmd=${1:-start}
[ "$cmd" = start ] || [ "$cmd" = stop ] || fail "unknown argument '$cmd' (use: start | stop)"

# Our own cluster: ARBOR_PG_PORT names a port that no Debian cluster serves (5432 is Debian's own default).
OWN=false
if [ -n "$REQUESTED_PORT" ] && [ "$REQUESTED_PORT" != 5432 ] && ! detect_cluster; then
  OWN=true
  PG_PORT=$REQUESTED_PORT
  HOME_DIR=$BASE/postgres-$PG_PORT
  DATA=$HOME_DIR/data
  LOGFILE=$HOME_DIR/postgres.log
  # The server refuses to run as root: run by root, the cluster belongs to the postgres user.
  as_owner() { if [ "$(id -u)" = 0 ]; then as_postgres "$@"; else "$@"; fi; }
fi

if [ "$cmd" = stop ]; then
  if $OWN; then
    bin=$(server_bin) || { log "PostgreSQL is not installed: nothing to stop"; exit 0; }
    if [ -f "$DATA/postmaster.pid" ] && as_owner "$bin/pg_ctl" -D "$DATA" status >/dev/null 2>&1; then
      log "stopping the cluster in $DATA (port $PG_PORT)"
      as_owner "$bin/pg_ctl" -D "$DATA" -m fast -w -t 60 stop >/dev/null || fail "pg_ctl stop failed; see $LOGFILE"
      log "stopped"
    else
      log "no cluster running in $DATA: nothing to stop"
    fi
  elif detect_cluster; then
    log "stopping cluster $PG_VERSION/$PG_CLUSTER"
    pg_ctlcluster "$PG_VERSION" "$PG_CLUSTER" stop || true
  else
    log "no cluster installed: nothing to stop"
  fi
  exit 0
fi

if $OWN; then
  bin=$(server_bin) || { install_postgresql; bin=$(server_bin) || fail "postgresql installed but no initdb found"; }
  mkdir -p "$HOME_DIR"
  if [ "$(id -u)" = 0 ]; then
    chown postgres: "$HOME_DIR"
    as_postgres test -w "$HOME_DIR" ||
      fail "the postgres user cannot reach $HOME_DIR (the server runs as postgres, never as root): set ARBOR_SERVICES_DIR to a directory it can reach, e.g. /var/tmp/arbor-services"
  fi
  if [ ! -f "$DATA/PG_VERSION" ]; then
    log "creating a cluster of its own in $DATA (port $PG_PORT)"
    # Trust on the socket only (in HOME_DIR, the owner's); TCP takes passwords, as Debian's cluster does.
    as_owner "$bin/initdb" -D "$DATA" -U postgres -E UTF8 --locale=C.UTF-8 --auth-local=trust --auth-host=scram-sha-256 \
      >"$HOME_DIR/initdb.log" 2>&1 || { cat "$HOME_DIR/initdb.log" >&2; fail "initdb failed (output above)"; }
    as_owner sh -c "cat >> '$DATA/postgresql.conf'" <<CONF
# scripts/services/postgres.sh
port = $PG_PORT
listen_addresses = '$PG_HOST'
unix_socket_directories = '$HOME_DIR'
max_connections = $MIN_CONNECTIONS
CONF
  fi
  log "cluster in $DATA on port $PG_PORT"
  if as_owner "$bin/pg_ctl" -D "$DATA" status >/dev/null 2>&1; then
    log "already running"
  else
    if pg_isready -q -h "$PG_HOST" -p "$PG_PORT"; then fail "port $PG_PORT is already taken by another server"; fi
    log "starting: pg_ctl -D $DATA start (log: $LOGFILE)"
    as_owner "$bin/pg_ctl" -D "$DATA" -l "$LOGFILE" -w -t 60 start >/dev/null ||
      fail "pg_ctl start failed; see $LOGFILE"
    log "ready on $PG_HOST:$PG_PORT"
  fi
  psql_admin() { as_owner psql -X -q -v ON_ERROR_STOP=1 -h "$HOME_DIR" -p "$PG_PORT" -U postgres -d postgres "$@"; }
else
  if ! detect_cluster; then
    install_postgresql
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
    wait_ready "see /var/log/postgresql/postgresql-$PG_VERSION-$PG_CLUSTER.log"
    log "ready on $PG_HOST:$PG_PORT"
  fi
  psql_admin() { as_postgres psql -X -q -v ON_ERROR_STOP=1 -p "$PG_PORT" -d postgres "$@"; }
fi

# max_connections takes effect only at a start: raised (ALTER SYSTEM, the cluster's postgresql.auto.conf) and
# restarted when below what the tests need, so that a second run finds it set and restarts nothing.
connections=$(psql_admin -tAc "SHOW max_connections") || fail "could not read max_connections"
[[ "$connections" =~ ^[0-9]+$ ]] || fail "max_connections reads '$connections', not a number"
if [ "$connections" -lt "$MIN_CONNECTIONS" ]; then
  log "max_connections is $connections: raising it to $MIN_CONNECTIONS (ALTER SYSTEM) and restarting"
  psql_admin -c "ALTER SYSTEM SET max_connections = $MIN_CONNECTIONS" || fail "could not set max_connections"
  if $OWN; then
    as_owner "$bin/pg_ctl" -D "$DATA" -l "$LOGFILE" -m fast -w -t 60 restart >/dev/null ||
      fail "pg_ctl restart failed; see $LOGFILE"
  else
    pg_ctlcluster "$PG_VERSION" "$PG_CLUSTER" restart ||
      fail "pg_ctlcluster $PG_VERSION $PG_CLUSTER restart failed; see /var/log/postgresql/postgresql-$PG_VERSION-$PG_CLUSTER.log"
  fi
  wait_ready "after the restart"
  connections=$(psql_admin -tAc "SHOW max_connections") || fail "could not read max_connections"
  [[ "$connections" =~ ^[0-9]+$ ]] && [ "$connections" -ge "$MIN_CONNECTIONS" ] || fail "max_connections is still $connections after the restart"
fi
log "max_connections $connections"

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
  fail "cannot log in as $PG_USER over TCP ($url); check pg_hba.conf of the cluster on port $PG_PORT"
log "ready"
echo "DATABASE_URL=$url"
