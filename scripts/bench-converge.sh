#!/usr/bin/env bash
# Convergence on the local Docker engine: swarm vs `docker service` vs a plain parallel
# `docker create`+`start` loop (the floor). Times apply -> N/N running, a rolling update of all
# N, and removal. Leaves the engine as found: swarm mode is left only if this script enabled it.
#
#   scripts/bench-converge.sh            # N=50, binaries from target/release (else target/debug)
#   N=20 BIN=target/debug scripts/bench-converge.sh
set -euo pipefail
cd "$(dirname "$0")/.."

N=${N:-50}
BIN=${BIN:-$( [ -x target/release/swarmd ] && echo target/release || echo target/debug )}
IMAGE=swarm-test/busybox:latest
# Exits promptly on SIGTERM, so stop times measure the orchestrator, not a grace period.
CMD="trap 'exit 0' TERM; while true; do sleep 1; done"
PAR=${PAR:-5}   # update parallelism, the same for swarm and docker service
TIMEOUT=${TIMEOUT:-600}

now() { date +%s.%N; }
since() { echo "$(now) - $1" | bc; }
wait_for() { # wait_for DESCRIPTION COMMAND...: polls until COMMAND succeeds
  local what=$1; shift; local start; start=$(now)
  until "$@"; do
    if (( $(echo "$(since "$start") > $TIMEOUT" | bc) )); then echo "timed out: $what" >&2; exit 1; fi
    sleep 0.2
  done
}
count() { docker ps -q --filter "$1" | wc -l; }
count_is() { [ "$(docker ps -aq --filter "$1" | wc -l)" -eq "$2" ]; }   # evaluated on every poll

if ! docker image inspect "$IMAGE" >/dev/null 2>&1; then
  root=$(mktemp -d); mkdir -p "$root/bin" "$root/tmp"
  cp "$(command -v busybox)" "$root/bin/busybox"
  for a in $(busybox --list); do [ "$a" = busybox ] || ln -s busybox "$root/bin/$a"; done
  tar -C "$root" -c . | docker import --change 'CMD ["sh"]' - "$IMAGE" >/dev/null
  rm -rf "$root"
fi
[ -x "$BIN/swarmd" ] || { echo "build first: cargo build --release --bins" >&2; exit 1; }

declare -A T

# --- floor: plain parallel docker create + start -------------------------------------------
floor_run() { # floor_run TAG: N containers labelled bench.floor=TAG, created and started in parallel
  seq 1 "$N" | xargs -P 8 -I{} sh -c \
    "docker create -q --label bench.floor=$1 --stop-timeout 1 $IMAGE sh -c \"$CMD\" | xargs docker start >/dev/null"
}
t=$(now); floor_run v1
wait_for "floor v1" count_is label=bench.floor=v1 "$N"; T[floor_create]=$(since "$t")
t=$(now)   # "update": replace every container, PAR at a time, stop-first
for i in $(seq 1 $((N / PAR))); do
  docker ps -q --filter label=bench.floor=v1 | head -n "$PAR" | xargs docker rm -f >/dev/null
  seq 1 "$PAR" | xargs -P "$PAR" -I{} sh -c \
    "docker create -q --label bench.floor=v2 $IMAGE sh -c \"$CMD\" | xargs docker start >/dev/null"
done
wait_for "floor v2" count_is label=bench.floor=v2 "$N"; T[floor_update]=$(since "$t")
t=$(now); docker ps -aq --filter label=bench.floor | xargs -P 8 -n 10 docker rm -f >/dev/null
T[floor_remove]=$(since "$t")

# --- swarm ---------------------------------------------------------------------------------
work=$(mktemp -d)
"$BIN/swarmd" up --api-addr 127.0.0.1:0 --data-dir "$work/data" 2>"$work/swarmd.log" &
swarmd_pid=$!
trap 'kill $swarmd_pid 2>/dev/null || true; docker ps -aq --filter label=com.docker.stack.namespace=bench | xargs -r docker rm -f >/dev/null; docker network ls -q --filter name=bench_ | xargs -r docker network rm >/dev/null 2>&1 || true' EXIT
wait_for "swarmd" test -s "$work/data/api.addr"   # a file test: re-run on each poll
host=$(cat "$work/data/api.addr")
ctl() { "$BIN/swarmctl" --host "$host" "$@"; }
stack() { cat >"$work/stack.yml" <<YAML
services:
  app:
    image: $IMAGE
    command: ["sh", "-c", "$CMD"]
    environment: {VERSION: "$1"}
    stop_grace_period: 1s
    deploy:
      replicas: $N
      update_config: {parallelism: $PAR, delay: 0s, order: stop-first}
YAML
}
running_swarm() { # all N tasks running at spec VERSION=$1 and no update in progress
  local json; json=$(ctl service ls -o json)
  echo "$json" | grep -q "\"running\": *$N\b" || echo "$json" | grep -q "\"running\":$N\b" || return 1
  ! echo "$json" | grep -q '"update_state": *"updating"' || return 1
  [ "$(count label=com.docker.stack.namespace=bench)" -eq "$N" ]
}
stack v1; t=$(now); ctl apply --stack bench -f "$work/stack.yml" >/dev/null
wait_for "swarm v1" running_swarm; T[swarm_create]=$(since "$t")
stack v2; t=$(now); ctl apply --stack bench -f "$work/stack.yml" >/dev/null
updated_swarm() {
  running_swarm || return 1
  local ids; ids=$(docker ps -q --filter label=com.docker.stack.namespace=bench)
  [ -n "$ids" ] && ! docker inspect -f '{{range .Config.Env}}{{println .}}{{end}}' $ids | grep -q '^VERSION=v1$'
}
wait_for "swarm v2" updated_swarm; T[swarm_update]=$(since "$t")
t=$(now); ctl stack rm bench >/dev/null
wait_for "swarm removal" count_is label=com.docker.stack.namespace=bench 0
T[swarm_remove]=$(since "$t")
kill -TERM "$swarmd_pid"; wait "$swarmd_pid" || true
# The stack's network outlives its tasks (the agent keeps networks it created until asked).
docker network ls -q --filter name=bench_ | xargs -r docker network rm >/dev/null 2>&1 || true
trap - EXIT

# --- docker service (swarm mode) -------------------------------------------------------------
initialised=no
if [ "$(docker info --format '{{.Swarm.LocalNodeState}}')" != active ]; then
  docker swarm init --advertise-addr 127.0.0.1 >/dev/null; initialised=yes
fi
leave() {
  docker service rm benchsvc >/dev/null 2>&1 || true
  if [ "$initialised" = yes ]; then
    docker swarm leave --force >/dev/null
    # `swarm init` created it and `swarm leave` keeps it.
    docker network rm docker_gwbridge >/dev/null 2>&1 || true
  fi
}
trap 'leave' EXIT
svc_running() { # N/N running at VERSION=$1, update (if any) completed
  [ "$(docker service ls --filter name=benchsvc --format '{{.Replicas}}')" = "$N/$N" ] || return 1
  local state; state=$(docker service inspect -f '{{if .UpdateStatus}}{{.UpdateStatus.State}}{{end}}' benchsvc)
  [ -z "$state" ] || [ "$state" = completed ]
}
t=$(now)
docker service create -d --no-resolve-image --name benchsvc --replicas "$N" --env VERSION=v1 \
  --stop-grace-period 1s --update-parallelism "$PAR" --update-delay 0s --update-order stop-first \
  "$IMAGE" sh -c "$CMD" >/dev/null
wait_for "docker service v1" svc_running; T[docker_create]=$(since "$t")
t=$(now); docker service update -d --no-resolve-image --env-add VERSION=v2 benchsvc >/dev/null
wait_for "docker service v2" bash -c "[ \"\$(docker service inspect -f '{{if .UpdateStatus}}{{.UpdateStatus.State}}{{end}}' benchsvc)\" = completed ]"
wait_for "docker service v2 running" svc_running; T[docker_update]=$(since "$t")
t=$(now); docker service rm benchsvc >/dev/null
wait_for "docker service removal" count_is label=com.docker.swarm.service.name=benchsvc 0
T[docker_remove]=$(since "$t")

printf '| phase | floor (create+start) | docker service | swarm | swarm / docker service | swarm / floor |\n|---|---|---|---|---|---|\n'
for phase in create update remove; do
  f=${T[floor_$phase]}; d=${T[docker_$phase]}; s=${T[swarm_$phase]}
  printf '| %s | %.1f s | %.1f s | %.1f s | %.2fx | %.2fx |\n' "$phase" "$f" "$d" "$s" \
    "$(echo "$s / $d" | bc -l)" "$(echo "$s / $f" | bc -l)"
done
