#!/usr/bin/env bash
# Does a three-node cluster on this host hold its leader under write load, and how long do its GC
# pauses get next to the election timeout (1-2 s)? Starts three nodes on loopback with GC logging,
# writes from 4 clients for DUR seconds, then prints each node's longest GC pause, the pauses over
# 500 ms, the elections during the run (term growth) and the load average.
#   bench/scripts/elections-under-load.sh            # DUR=60 BASE=18110 LODESTAR=./lodestar
set -euo pipefail
DUR=${DUR:-60}
BASE=${BASE:-18110}
LODESTAR=${LODESTAR:-./lodestar}
DIR=$(mktemp -d)
cluster="n1=127.0.0.1:$BASE,n2=127.0.0.1:$((BASE + 2)),n3=127.0.0.1:$((BASE + 4))"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT
for i in 1 2 3; do
  port=$((BASE + 2 * (i - 1)))
  JAVA_OPTS="-Xlog:gc:file=$DIR/n$i.gc" $LODESTAR server --node-id "n$i" --cluster "$cluster" --port "$port" \
    --data-dir "$DIR/n$i" >"$DIR/n$i.log" 2>&1 &
  pids+=($!)
done
for i in 1 2 3; do
  port=$((BASE + 2 * (i - 1)))
  until curl -sf "localhost:$port/health" >/dev/null; do sleep 1; done
done
until curl -s "localhost:$BASE/v1/cluster" | grep -q '"leader":"n'; do sleep 1; done
term() { curl -s "localhost:$BASE/v1/cluster" | sed -n 's/.*"term":\([0-9]*\).*/\1/p'; }
t0=$(term)
end=$((SECONDS + DUR))
writers=()
for w in 1 2 3 4; do
  (n=0; while ((SECONDS < end)); do
     port=$((BASE + 2 * (n % 3)))
     curl -s -o /dev/null -X POST "localhost:$port/v1/namespaces/default/services/load/instances" \
       -d "{\"id\":\"w$w-$n\",\"host\":\"10.0.0.$w\",\"port\":$((1000 + n % 60000)),\"ephemeral\":false}" || true
     n=$((n + 1))
   done) &
  writers+=($!)
done
wait "${writers[@]}"
t1=$(term)
echo "elections during ${DUR}s of writes: $((t1 - t0)) (term $t0 -> $t1)"
for i in 1 2 3; do
  awk -v n="n$i" '/Pause/ { v = $NF; sub(/ms/, "", v); v += 0; if (v > max) max = v; if (v > 500) long++; c++ }
    END { printf "%s: %d GC pauses, longest %.0f ms, %d over 500 ms\n", n, c, max, long }' "$DIR/n$i.gc"
done
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
