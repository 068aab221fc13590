#!/usr/bin/env bash
# `npm run start:distributed`: the distributed profile on one machine. Provisions PostgreSQL and the Kafka
# broker through scripts/services/*.sh when DATABASE_URL / KAFKA_BROKERS are not given, builds, then runs a
# command service, a projector and a gateway as separate processes. The gateway serves the same API on
# PORT, with the same variables as `npm start`. Ctrl-C, or SIGTERM to it or to npm, stops all three: the gateway
# first.
set -euo pipefail
cd "$(dirname "$0")/.."
export NX_DAEMON=false

# The service scripts' output goes to our stderr through `tee >(cat >&2)`: the descriptor already open, never
# /dev/stderr, which Linux cannot open when stderr is a socket (systemd, pm2, any Node supervisor).
if [ -z "${DATABASE_URL:-}" ]; then
  line=$(scripts/services/postgres.sh | tee >(cat >&2) | grep '^DATABASE_URL=' | tail -n 1)
  # The service script prints the test database; the running profile gets its own.
  export DATABASE_URL=${line#DATABASE_URL=}
  export DATABASE_URL=${DATABASE_URL%/arbor_test}/arbor
fi
if [ -z "${KAFKA_BROKERS:-}" ]; then
  line=$(scripts/services/kafka.sh | tee >(cat >&2) | grep '^KAFKA_BROKERS=' | tail -n 1)
  export KAFKA_BROKERS=${line#KAFKA_BROKERS=}
fi

npm run --silent build

export COMMAND_SERVICE_PORT=${COMMAND_SERVICE_PORT:-8081}
export COMMAND_SERVICE_URL=${COMMAND_SERVICE_URL:-http://127.0.0.1:$COMMAND_SERVICE_PORT}
export IAM_DATA_DIR=${IAM_DATA_DIR:-./data}
mkdir -p "$IAM_DATA_DIR"

pids=()
gateway=
# The gateway first, and only then the services behind it (contract section 1): while it answers what is in
# flight, its writes still need the command service, and their read-your-writes wait the projector.
stop() {
  trap - INT TERM EXIT
  if [ -n "$gateway" ]; then
    kill "$gateway" 2>/dev/null || true
    wait "$gateway" 2>/dev/null || true
  fi
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap stop INT TERM EXIT

node apps/command-service/dist/main.js & pids+=($!)
for _ in $(seq 1 60); do
  curl -fsS "$COMMAND_SERVICE_URL/healthz" >/dev/null 2>&1 && break
  sleep 0.5
done
node apps/projector/dist/main.js & pids+=($!)
node apps/gateway/dist/main.js & gateway=$!
wait -n "${pids[@]}" "$gateway"
echo "a process of the distributed profile exited; stopping the others" >&2
