#!/usr/bin/env bash
# Scale of the control plane: one manager with the in-process sim runtime (no containers), one
# stack of N/100 services x 100 replicas, `swarmctl apply --wait` timed from the command to
# every task RUNNING; then the daemon's peak RSS (VmHWM) over the task count.
#
#   scripts/bench-scale.sh                  # N = 1000 and 10000, release binaries
#   SIZES="1000 10000 100000" scripts/bench-scale.sh
#   BIN=target/debug SIZES=1000 scripts/bench-scale.sh
#
# Every size runs on a fresh daemon (its own data dir, API on a free port). `apply --wait` polls
# every 500 ms, so times carry up to that much quantisation (it matters at 1k tasks only).
set -euo pipefail
cd "$(dirname "$0")/.."

SIZES=${SIZES:-1000 10000}
BIN=${BIN:-target/release}
REPLICAS=100
TIMEOUT=${TIMEOUT:-30m}
[ -x "$BIN/swarmd" ] || { echo "build first: cargo build --release --bins" >&2; exit 1; }

now() { date +%s.%N; }
kib() { awk -v k="$2" '$1 == k":" { print $2 }' "/proc/$1/status"; } # kib PID VmHWM|VmRSS

stack_file() { # stack_file PATH SERVICES
  {
    echo 'version: "3.8"'
    echo 'services:'
    for s in $(seq 1 "$2"); do
      printf '  s%d:\n    image: busybox:latest\n    command: ["sleep", "infinity"]\n' "$s"
      printf '    deploy: {replicas: %d}\n' "$REPLICAS"
    done
  } >"$1"
}

printf '| tasks | services | time to all running | tasks/s | per task | RSS idle | peak RSS | peak RSS / task | (peak - idle) / task |\n'
printf '|---|---|---|---|---|---|---|---|---|\n'
for n in $SIZES; do
  work=$(mktemp -d)
  services=$((n / REPLICAS))
  stack_file "$work/scale.yml" "$services"
  "$BIN/swarmd" up --runtime sim --api-addr 127.0.0.1:0 --data-dir "$work/data" \
    2>"$work/swarmd.log" &
  pid=$!
  trap 'kill $pid 2>/dev/null || true' EXIT
  for _ in $(seq 1 600); do [ -s "$work/data/api.addr" ] && break; sleep 0.1; done
  host=$(cat "$work/data/api.addr")
  ctl() { "$BIN/swarmctl" --host "$host" "$@"; }
  # The sim node registers itself: wait until the scheduler can count on it.
  for _ in $(seq 1 600); do ctl node ls -o json | grep -qi "\"ready\"" && break; sleep 0.1; done
  idle=$(kib "$pid" VmRSS)
  t=$(now)
  ctl apply --stack scale -f "$work/scale.yml" --wait --timeout "$TIMEOUT" >"$work/apply.log"
  secs=$(echo "$(now) - $t" | bc -l)
  peak=$(kib "$pid" VmHWM)
  kill -TERM "$pid"; wait "$pid" || true
  trap - EXIT
  printf '| %d | %d | %.2f s | %.0f | %.1f µs | %d MB | %d MB | %.1f KB | %.1f KB |\n' \
    "$n" "$services" "$secs" "$(echo "$n / $secs" | bc -l)" "$(echo "$secs * 1000000 / $n" | bc -l)" \
    $((idle / 1024)) $((peak / 1024)) "$(echo "$peak / $n" | bc -l)" \
    "$(echo "($peak - $idle) / $n" | bc -l)"
  rm -rf "$work"
done
