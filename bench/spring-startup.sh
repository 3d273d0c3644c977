#!/usr/bin/env bash
# Start-time cost of the Spring Cloud starter (docs/benchmarks.md#start-time-cost-of-the-starter).
# Starts examples/spring-payments N times without the starter and N times with it, and prints Spring's
# "Started PaymentsApplication in X seconds" for each. "without" is the same application class on its
# runtime classpath minus the starter and what only it brings (lodestar-*, spring-cloud-*, grpc-*,
# protobuf-*); "with" is the real classpath, registering in a Lodestar server started here.
# Build first: mvn -B -q -pl server,examples/spring-payments -am package -DskipTests
# Usage: bench/spring-startup.sh [N] [port]      (run from the repository root)
set -euo pipefail
N=${1:-5}
PORT=${2:-18600}
APP=examples/spring-payments/target
WITH="$APP/classes:$APP/lib/*"
WITHOUT="$APP/classes"
for jar in "$APP"/lib/*.jar; do
  case "$(basename "$jar")" in
    lodestar-*|spring-cloud-*|grpc-*|protobuf-*) ;;
    *) WITHOUT="$WITHOUT:$jar" ;;
  esac
done
DATA=$(mktemp -d)
OUT=$(mktemp -d)
java -Dcom.linecorp.armeria.warnNettyVersions=false \
  -cp "$(ls server/target/lodestar-server-*.jar | head -1):server/target/lib/*" \
  io.lodestar.server.Main --port "$PORT" --data-dir "$DATA" > "$OUT/server.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null; rm -rf "$DATA"' EXIT
until curl -sf "localhost:$PORT/health" > /dev/null; do sleep 0.5; done
for label in without with; do
  cp=$WITHOUT; [[ $label == with ]] && cp=$WITH
  for i in $(seq 1 "$N"); do
    log="$OUT/$label-$i.log"
    java -cp "$cp" io.lodestar.examples.payments.PaymentsApplication --server.port=0 \
      --lodestar.server="127.0.0.1:$PORT" > "$log" 2>&1 &
    pid=$!
    until grep -q 'Started PaymentsApplication\|APPLICATION FAILED' "$log"; do sleep 0.2; done
    kill "$pid"; wait "$pid" 2>/dev/null || true
    echo "$label: $(grep -o 'Started PaymentsApplication in [0-9.]* seconds' "$log" || echo failed, see "$log")"
  done
done
