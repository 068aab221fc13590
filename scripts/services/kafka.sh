#!/usr/bin/env bash
# Starts a single-node Kafka broker (KRaft, no ZooKeeper) for the distributed profile's tests and prints
# the KAFKA_BROKERS to use.
#   scripts/services/kafka.sh        fetch the broker (once), format its storage (once), start it, wait
#   scripts/services/kafka.sh stop   stop the broker
# The broker is Apache Kafka 3.9.x fetched from Maven Central with mvn (kafka_2.13 and its runtime
# dependencies; see kafka/pom.xml). Kafka 4.x dropped old protocol versions that kafkajs 2.2.4 still uses.
# Needs java (17+) and, for the first fetch only, mvn. Idempotent: safe to run again while the broker is up.
#
# Variables (unset: the behaviour of before):
#   ARBOR_KAFKA_PORT             the broker's port (default 9092)
#   ARBOR_KAFKA_CONTROLLER_PORT  its KRaft controller's port (default: the broker's + 1)
#   ARBOR_SERVICES_DIR           state directory (default $HOME/.cache/arbor-services): the jars (shared by
#                                every broker of the directory) and, per broker, config, data, log and pid in
#                                kafka/ for port 9092 and kafka-<port>/ for any other, so that a second checkout
#                                runs a broker of its own next to the first with just another port.
#   ARBOR_KAFKA_FRESH=1          when the broker is not running, start it on empty storage (.ci/run sets it):
#                                the tests leave a topic each, and a broker with thousands of them takes
#                                minutes to load their logs after a restart (the broker-restart tests then
#                                time out). A running broker is never touched.
set -euo pipefail

KAFKA_VERSION=3.9.1
HOST=127.0.0.1
PORT=${ARBOR_KAFKA_PORT:-9092}
CONTROLLER_PORT=${ARBOR_KAFKA_CONTROLLER_PORT:-$((PORT + 1))}

log() { echo "[kafka] $*"; }
fail() { echo "[kafka] ERROR: $*" >&2; exit 1; }

for p in "$PORT" "$CONTROLLER_PORT"; do
  [[ "$p" =~ ^[0-9]+$ ]] && [ "$p" -ge 1 ] && [ "$p" -le 65535 ] ||
    fail "ARBOR_KAFKA_PORT and ARBOR_KAFKA_CONTROLLER_PORT must be port numbers (1 to 65535), not '$p'"
done
[ "$PORT" != "$CONTROLLER_PORT" ] || fail "the broker and its controller need two ports (both are $PORT)"

here=$(cd "$(dirname "$0")" && pwd)
repo_root=$(cd "$here/../.." && pwd)
base=${ARBOR_SERVICES_DIR:-$HOME/.cache/arbor-services}
libs=$base/kafka-libs-$KAFKA_VERSION
if [ "$PORT" = 9092 ]; then home=$base/kafka; else home=$base/kafka-$PORT; fi
config=$home/server.properties
log4j=$home/log4j.properties
data=$home/data
logfile=$home/broker.log
pidfile=$home/broker.pid

port_open() { (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null; }
running_pid() {
  [ -f "$pidfile" ] || return 1
  local pid
  pid=$(cat "$pidfile")
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && echo "$pid"
}

cmd=${1:-start}

if [ "$cmd" = stop ]; then
  if pid=$(running_pid); then
    log "stopping broker (pid $pid)"
    kill "$pid"
    for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    if kill -0 "$pid" 2>/dev/null; then log "still running after 30 s: killing it"; kill -9 "$pid" || true; fi
    rm -f "$pidfile"
    log "stopped"
  else
    log "not running"
  fi
  exit 0
fi
[ "$cmd" = start ] || fail "unknown argument '$cmd' (use: start | stop)"

command -v java >/dev/null 2>&1 || fail "java not found (the broker needs Java 17+)"
mkdir -p "$base" "$home"

# 1. The broker's jars, fetched once.
if [ -f "$libs/.complete" ]; then
  log "broker $KAFKA_VERSION already in $libs"
else
  command -v mvn >/dev/null 2>&1 || fail "mvn not found: it is needed once to fetch Kafka $KAFKA_VERSION from Maven Central"
  log "fetching org.apache.kafka:kafka_2.13:$KAFKA_VERSION and its runtime dependencies with mvn into $libs"
  rm -rf "$libs.tmp"
  if ! mvn -q -B -f "$here/kafka/pom.xml" -Dkafka.version="$KAFKA_VERSION" dependency:copy-dependencies \
    -DoutputDirectory="$libs.tmp" -DincludeScope=runtime >"$base/mvn.log" 2>&1; then
    cat "$base/mvn.log" >&2
    fail "mvn could not fetch the Kafka broker (output above, also in $base/mvn.log)"
  fi
  ls "$libs.tmp"/kafka_2.13-"$KAFKA_VERSION".jar >/dev/null 2>&1 || fail "mvn finished but kafka_2.13-$KAFKA_VERSION.jar is missing in $libs.tmp"
  touch "$libs.tmp/.complete"
  rm -rf "$libs"
  mv "$libs.tmp" "$libs"
  log "fetched $(ls "$libs"/*.jar | wc -l) jars"
fi
cp="$libs/*"

# 2. Configuration (rewritten each time, so edits here take effect on the next start).
cat >"$config" <<PROPS
process.roles=broker,controller
node.id=1
listeners=PLAINTEXT://$HOST:$PORT,CONTROLLER://$HOST:$CONTROLLER_PORT
advertised.listeners=PLAINTEXT://$HOST:$PORT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
controller.quorum.voters=1@$HOST:$CONTROLLER_PORT
log.dirs=$data
num.partitions=6
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
auto.create.topics.enable=true
group.initial.rebalance.delay.ms=0
log.retention.hours=24
PROPS
cat >"$log4j" <<PROPS
log4j.rootLogger=INFO, file
log4j.appender.file=org.apache.log4j.FileAppender
log4j.appender.file.File=$logfile
log4j.appender.file.layout=org.apache.log4j.PatternLayout
log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka=INFO
log4j.logger.org.apache.kafka=INFO
log4j.logger.state.change.logger=WARN
log4j.logger.kafka.request.logger=WARN
PROPS
jvm_log=(-Dlog4j.configuration="file:$log4j" -Dkafka.logs.dir="$home")

# 3. Storage, formatted once with a random cluster id (again on a fresh start, see ARBOR_KAFKA_FRESH).
if [ "${ARBOR_KAFKA_FRESH:-}" = 1 ] && ! running_pid >/dev/null && [ -d "$data" ]; then
  log "fresh start: removing the storage of earlier runs in $data"
  rm -rf "$data"
fi
if [ -f "$data/meta.properties" ]; then
  log "storage already formatted in $data"
else
  cluster_id=""
  while [ -z "$cluster_id" ] || [ "${cluster_id:0:1}" = - ]; do # Kafka avoids ids starting with '-'
    cluster_id=$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')
  done
  log "formatting storage in $data (cluster id $cluster_id)"
  java "${jvm_log[@]}" -cp "$cp" kafka.tools.StorageTool format -t "$cluster_id" -c "$config" >"$home/format.log" 2>&1 ||
    { cat "$home/format.log" >&2; fail "kafka.tools.StorageTool format failed (output above)"; }
fi

# 4. The broker, in the background.
if pid=$(running_pid); then
  log "broker already running (pid $pid)"
else
  for p in "$PORT" "$CONTROLLER_PORT"; do
    if port_open "$p"; then fail "port $p is already taken by another process (ARBOR_KAFKA_PORT, ARBOR_KAFKA_CONTROLLER_PORT choose others)"; fi
  done
  log "starting broker (log: $logfile)"
  : >"$home/broker.out"
  nohup java -Xmx512m -Xms256m -XX:+UseG1GC "${jvm_log[@]}" -cp "$cp" kafka.Kafka "$config" \
    >>"$home/broker.out" 2>&1 </dev/null &
  echo $! >"$pidfile"
fi
pid=$(cat "$pidfile")

# 5. Wait until the port accepts and a client gets metadata (kafkajs admin listTopics, when installed).
probe() {
  (cd "$repo_root" && node -e '
    const { Kafka, logLevel } = require("kafkajs");
    const admin = new Kafka({ clientId: "arbor-probe", brokers: [process.argv[1]], logLevel: logLevel.NOTHING,
      retry: { retries: 0 }, connectionTimeout: 2000, requestTimeout: 5000 }).admin();
    admin.connect().then(() => admin.listTopics()).then(() => admin.disconnect()).then(
      () => process.exit(0), (e) => { console.error(String(e && e.message)); process.exit(1); });
  ' "$HOST:$PORT") 2>/dev/null
}
have_kafkajs=true
(cd "$repo_root" && node -e 'require.resolve("kafkajs")') >/dev/null 2>&1 || have_kafkajs=false
$have_kafkajs || log "kafkajs is not installed (run npm ci first): checking the port only"
deadline=$((SECONDS + 60))
until port_open "$PORT" && { ! $have_kafkajs || probe; }; do
  if ! kill -0 "$pid" 2>/dev/null; then
    tail -n 40 "$home/broker.out" "$logfile" >&2 2>/dev/null || true
    rm -f "$pidfile"
    fail "the broker exited during startup (last lines above; full log in $logfile)"
  fi
  if [ "$SECONDS" -ge "$deadline" ]; then
    tail -n 40 "$logfile" >&2 2>/dev/null || true
    fail "the broker (pid $pid) does not answer on $HOST:$PORT after 60 s (log: $logfile)"
  fi
  sleep 1
done
log "ready on $HOST:$PORT (pid $pid)"
echo "KAFKA_BROKERS=$HOST:$PORT"
