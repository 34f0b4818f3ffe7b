#!/usr/bin/env bash
# Convergence on the local Docker engine: swarm vs Docker Swarm mode vs a plain parallel
# `docker create`+`start` loop (the engine's floor). Times apply -> N/N running, two rolling
# updates of all N (parallelism 5, then Docker's default 1; stop-first, delay 0) and removal
# (phase `converge`); and how soon a `docker kill`ed task is back, healthy (restart delay 5 s,
# healthcheck interval 1 s) and running (delay 0 s), against Docker Swarm (phase `kill`).
#
# Every system runs the same containers: N replicas on one user-defined network under the alias
# `app` (what a stack's default network gives each service), stopped gracefully. Docker Swarm
# runs twice: `docker stack deploy` of the very stack file swarm applies (an overlay network,
# as Docker makes for a stack), and a bare `docker service create` without any network (less
# work for the engine, so the harder baseline). Leaves the engine as found: swarm mode is left
# only if this script enabled it.
#
#   scripts/bench-converge.sh            # N=50, binaries from target/release (else target/debug)
#   N=20 BIN=target/debug scripts/bench-converge.sh
#   PHASES=kill KILLS=5 scripts/bench-converge.sh   # only the killed-task rows, 5 kills each
set -euo pipefail
cd "$(dirname "$0")/.."

N=${N:-50}
BIN=${BIN:-$( [ -x target/release/swarmd ] && echo target/release || echo target/debug )}
IMAGE=swarm-bench/busybox:latest   # its own: the tests' image has more in it
# Exits promptly on SIGTERM (`wait` is interrupted by the trapped signal; a foreground `sleep`
# would hold it up to 1 s), so stop times measure the orchestrator, not the workload.
CMD="trap 'exit 0' TERM; while true; do sleep 1 & wait; done"
TIMEOUT=${TIMEOUT:-600}
UPDATES=(5 1)   # the parallelism of each rolling update, in order
PHASES=${PHASES:-converge kill}
KILLS=${KILLS:-5}   # kills per system and row in the kill phase
want() { [[ " $PHASES " == *" $1 "* ]]; }

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
# True when the N running containers matching FILTER all run VERSION.
all_at() { # all_at FILTER VERSION
  local ids env; ids=$(docker ps -q --filter "$1")
  [ "$(echo "$ids" | grep -c .)" -eq "$N" ] || return 1
  # A container removed between `ps` and `inspect` means: not settled yet, look again.
  env=$(docker inspect -f '{{range .Config.Env}}{{println .}}{{end}}' $ids 2>/dev/null) || return 1
  [ "$(echo "$env" | grep -c "^VERSION=$2\$")" -eq "$N" ]
}

scripts/demo-image.sh "$IMAGE" >/dev/null
[ -x "$BIN/swarmd" ] || { echo "build first: cargo build --release --bins" >&2; exit 1; }
work=$(mktemp -d)
declare -A T

converge_phase() {
# --- floor: plain parallel docker create + start, the same containers ----------------------
docker network create --label bench.floor=net benchfloor >/dev/null
floor_start() { # floor_start VERSION COUNT: COUNT containers at VERSION, 8 at a time
  seq 1 "$2" | xargs -P 8 -I{} sh -c "docker create -q --label bench.floor=$1 --env VERSION=$1 \
    --network benchfloor --network-alias app --stop-timeout 1 $IMAGE sh -c \"$CMD\" \
    | xargs docker start >/dev/null"
}
t=$(now); floor_start v1 "$N"
wait_for "floor v1" count_is label=bench.floor=v1 "$N"; T[floor_create]=$(since "$t")
from=v1; to=2
for par in "${UPDATES[@]}"; do   # stop (gracefully) and remove PAR, start PAR, repeat
  t=$(now)
  while [ "$(count label=bench.floor=$from)" -gt 0 ]; do
    old=$(docker ps -q --filter label=bench.floor=$from | head -n "$par")
    echo "$old" | xargs -P "$par" -n 1 docker stop -t 1 >/dev/null
    echo "$old" | xargs docker rm >/dev/null
    floor_start "v$to" "$(echo "$old" | wc -l)"
  done
  wait_for "floor v$to" count_is "label=bench.floor=v$to" "$N"; T[floor_update$par]=$(since "$t")
  from=v$to; to=$((to + 1))
done
t=$(now); docker ps -aq --filter label=bench.floor | xargs -P 8 -n 10 docker rm -f >/dev/null
T[floor_remove]=$(since "$t")
docker network rm benchfloor >/dev/null

# The stack both swarm and `docker stack deploy` run: stack_file VERSION PARALLELISM.
stack_file() { cat >"$work/stack.yml" <<YAML
version: "3.8"
services:
  app:
    image: $IMAGE
    command: ["sh", "-c", "$CMD"]
    environment: {VERSION: "$1"}
    stop_grace_period: 1s
    deploy:
      replicas: $N
      update_config: {parallelism: $2, delay: 0s, order: stop-first}
YAML
}

# --- swarm ---------------------------------------------------------------------------------
"$BIN/swarmd" up --api-addr 127.0.0.1:0 --data-dir "$work/data" 2>"$work/swarmd.log" &
swarmd_pid=$!
trap 'kill $swarmd_pid 2>/dev/null || true; docker ps -aq --filter label=com.docker.stack.namespace=bench | xargs -r docker rm -f >/dev/null; docker network ls -q --filter name=bench_ | xargs -r docker network rm >/dev/null 2>&1 || true' EXIT
wait_for "swarmd" test -s "$work/data/api.addr"   # a file test: re-run on each poll
host=$(cat "$work/data/api.addr")
ctl() { "$BIN/swarmctl" --host "$host" "$@"; }
swarm_at() { # swarm_at VERSION: N/N running at VERSION, the update (if any) completed
  # Containers first: once all run VERSION, the state read next is this update's.
  all_at label=com.docker.stack.namespace=bench "$1" || return 1
  local json; json=$(ctl service ls -o json)
  echo "$json" | grep -Eq "\"running\": *$N\b" || return 1
  ! echo "$json" | grep -Eq '"update_state": *"(updating|paused|rollback_[a-z]+)"'
}
stack_file v1 "${UPDATES[0]}"; t=$(now); ctl apply --stack bench -f "$work/stack.yml" >/dev/null
wait_for "swarm v1" swarm_at v1; T[swarm_create]=$(since "$t")
to=2
for par in "${UPDATES[@]}"; do
  stack_file "v$to" "$par"; t=$(now); ctl apply --stack bench -f "$work/stack.yml" >/dev/null
  wait_for "swarm v$to" swarm_at "v$to"; T[swarm_update$par]=$(since "$t")
  to=$((to + 1))
done
t=$(now); ctl stack rm bench >/dev/null
wait_for "swarm removal" count_is label=com.docker.stack.namespace=bench 0
T[swarm_remove]=$(since "$t")
kill -TERM "$swarmd_pid"; wait "$swarmd_pid" || true
docker network ls -q --filter name=bench_ | xargs -r docker network rm >/dev/null 2>&1 || true
trap - EXIT

# --- Docker Swarm mode -----------------------------------------------------------------------
initialised=no
if [ "$(docker info --format '{{.Swarm.LocalNodeState}}')" != active ]; then
  docker swarm init --advertise-addr 127.0.0.1 >/dev/null; initialised=yes
fi
leave() {
  docker service rm benchsvc >/dev/null 2>&1 || true
  docker stack rm dstack >/dev/null 2>&1 || true
  if [ "$initialised" = yes ]; then
    docker swarm leave --force >/dev/null
    # `swarm init` created it and `swarm leave` keeps it.
    docker network rm docker_gwbridge >/dev/null 2>&1 || true
  fi
}
trap 'leave' EXIT
svc_at() { # svc_at SERVICE VERSION: N/N running at VERSION, the update (if any) completed
  all_at "label=com.docker.swarm.service.name=$1" "$2" || return 1   # first: see swarm_at
  [ "$(docker service ls --filter "name=$1" --format '{{.Replicas}}')" = "$N/$N" ] || return 1
  local state; state=$(docker service inspect -f '{{if .UpdateStatus}}{{.UpdateStatus.State}}{{end}}' "$1")
  [ -z "$state" ] || [ "$state" = completed ]
}
docker_run() { # docker_run KEY SERVICE CREATE UPDATE REMOVE: the commands take VERSION and PAR
  local key=$1 svc=$2 create=$3 update=$4 remove=$5 to=2
  t=$(now); $create v1 "${UPDATES[0]}"
  wait_for "$key v1" svc_at "$svc" v1; T[${key}_create]=$(since "$t")
  for par in "${UPDATES[@]}"; do
    t=$(now); $update "v$to" "$par"
    wait_for "$key v$to" svc_at "$svc" "v$to"; T[${key}_update$par]=$(since "$t")
    to=$((to + 1))
  done
  t=$(now); $remove
  wait_for "$key removal" count_is "label=com.docker.swarm.service.name=$svc" 0
  T[${key}_remove]=$(since "$t")
}
stack_deploy() { stack_file "$1" "$2"; docker stack deploy --resolve-image never -c "$work/stack.yml" dstack >/dev/null 2>&1; }
stack_remove() { docker stack rm dstack >/dev/null; }
svc_create() {
  docker service create -d --no-resolve-image --name benchsvc --replicas "$N" --env "VERSION=$1" \
    --stop-grace-period 1s --update-parallelism "$2" --update-delay 0s --update-order stop-first \
    "$IMAGE" sh -c "$CMD" >/dev/null
}
svc_update() { docker service update -d --no-resolve-image --env-add "VERSION=$1" --update-parallelism "$2" benchsvc >/dev/null; }
svc_remove() { docker service rm benchsvc >/dev/null; }
docker_run stack dstack_app stack_deploy stack_deploy stack_remove
wait_for "dstack network gone" bash -c "[ -z \"\$(docker network ls -q --filter name=dstack_)\" ]"
docker_run svc benchsvc svc_create svc_update svc_remove

row() { # row LABEL KEY
  local f=${T[floor_$2]} d=${T[stack_$2]} b=${T[svc_$2]} s=${T[swarm_$2]}
  printf '| %s | %.1f s | %.1f s | %.1f s | %.1f s | %.2fx | %.2fx | %.2fx |\n' "$1" "$f" "$d" "$b" "$s" \
    "$(echo "$s / $d" | bc -l)" "$(echo "$s / $b" | bc -l)" "$(echo "$s / $f" | bc -l)"
}
printf '| phase | floor | docker stack deploy | docker service (no network) | swarm | swarm / stack deploy | swarm / docker service | swarm / floor |\n'
printf '|---|---|---|---|---|---|---|---|\n'
row create create
for par in "${UPDATES[@]}"; do row "update, parallelism $par" "update$par"; done
row remove remove
}

# --- kill: how soon a killed task is back ------------------------------------------------------
# Times come from the engine's own events (the killed container's `die` to its replacement's
# `health_status: healthy` or `start`), so polling does not blur them.
kill_stack() { cat >"$work/kill.yml" <<YAML
version: "3.8"
services:
  bkhealthy:
    image: $IMAGE
    command: ["sh", "-c", "$CMD"]
    stop_grace_period: 1s
    healthcheck: {test: ["CMD", "true"], interval: 1s}
    deploy: {restart_policy: {delay: 5s}}
  bkquick:
    image: $IMAGE
    command: ["sh", "-c", "$CMD"]
    stop_grace_period: 1s
    deploy: {restart_policy: {delay: 0s}}
YAML
}
# back_after OLD ACTION: seconds from OLD's death to another container's ACTION, once seen.
back_after() {
  awk -F'|' -v old="$1" -v a="$2" '$2 == old && $3 == "die" { d = $1 }
    d && $2 != old && $3 == a { printf "%.3f\n", ($1 - d) / 1e9; exit }' "$work/events"
}
seen_back() { [ -n "$(back_after "$1" "$2")" ]; }
steady() { # steady FILTER [HEALTH]: exactly one running container, healthy if asked
  [ "$(docker ps -q --filter "$1" ${2:+--filter health=$2} | wc -l)" -eq 1 ] &&
    [ "$(docker ps -q --filter "$1" | wc -l)" -eq 1 ]
}
# kill_rounds KEY FILTER ACTION [HEALTH]: KILLS times, kill the one container and time its return.
kill_rounds() {
  local key=$1 filter=$2 action=$3 health=${4:-} old events i times=()
  for i in $(seq 1 "$KILLS"); do
    wait_for "$key steady" steady "$filter" "$health"
    old=$(docker ps -q --no-trunc --filter "$filter")
    docker events --since "$(date +%s.%N)" --filter type=container --filter "$filter" \
      --format '{{.TimeNano}}|{{.ID}}|{{.Action}}' >"$work/events" &
    events=$!
    docker kill "$old" >/dev/null
    wait_for "$key back" seen_back "$old" "$action"
    kill "$events"; wait "$events" 2>/dev/null || true
    times+=("$(back_after "$old" "$action")")
  done
  T[$key]=$(printf '%s\n' "${times[@]}" | sort -n | tr '\n' ' ')
}
kill_phase() {
  kill_stack
  "$BIN/swarmd" up --api-addr 127.0.0.1:0 --data-dir "$work/killdata" 2>"$work/swarmd-kill.log" &
  swarmd_pid=$!
  trap 'kill $swarmd_pid 2>/dev/null || true; docker ps -aq --filter label=com.docker.stack.namespace=benchkill | xargs -r docker rm -f >/dev/null' EXIT
  wait_for "swarmd" test -s "$work/killdata/api.addr"
  host=$(cat "$work/killdata/api.addr")
  "$BIN/swarmctl" --host "$host" apply --stack benchkill -f "$work/kill.yml" >/dev/null
  kill_rounds swarm_healthy label=swarm.service.name=bkhealthy "health_status: healthy" healthy
  kill_rounds swarm_quick label=swarm.service.name=bkquick start
  "$BIN/swarmctl" --host "$host" stack rm benchkill >/dev/null
  wait_for "swarm removal" count_is label=com.docker.stack.namespace=benchkill 0
  kill -TERM "$swarmd_pid"; wait "$swarmd_pid" || true
  docker network ls -q --filter name=benchkill_ | xargs -r docker network rm >/dev/null 2>&1 || true
  trap - EXIT

  local initialised=no
  if [ "$(docker info --format '{{.Swarm.LocalNodeState}}')" != active ]; then
    docker swarm init --advertise-addr 127.0.0.1 >/dev/null; initialised=yes
  fi
  # shellcheck disable=SC2064  # `initialised` is fixed now
  trap "docker stack rm dkill >/dev/null 2>&1 || true
    if [ $initialised = yes ]; then docker swarm leave --force >/dev/null; docker network rm docker_gwbridge >/dev/null 2>&1 || true; fi" EXIT
  docker stack deploy --resolve-image never -c "$work/kill.yml" dkill >/dev/null 2>&1
  kill_rounds stack_healthy label=com.docker.swarm.service.name=dkill_bkhealthy "health_status: healthy" healthy
  kill_rounds stack_quick label=com.docker.swarm.service.name=dkill_bkquick start
  docker stack rm dkill >/dev/null
  wait_for "dkill removal" count_is label=com.docker.stack.namespace=dkill 0
  wait_for "dkill network gone" bash -c "[ -z \"\$(docker network ls -q --filter name=dkill_)\" ]"
  if [ "$initialised" = yes ]; then
    docker swarm leave --force >/dev/null
    docker network rm docker_gwbridge >/dev/null 2>&1 || true
  fi
  trap - EXIT

  median() { echo "$1" | tr ' ' '\n' | grep . | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
  span() { echo "$1" | tr ' ' '\n' | grep . | sed -n '1p;$p' | paste -sd- | sed 's/-/–/'; }
  krow() { # krow LABEL KEY
    local d=${T[stack_$2]} s=${T[swarm_$2]}
    printf '| %s | %.2f s (%s) | %.2f s (%s) | %.2fx |\n' "$1" "$(median "$d")" "$(span "$d")" \
      "$(median "$s")" "$(span "$s")" "$(echo "$(median "$s") / $(median "$d")" | bc -l)"
  }
  printf '\n| phase (median of %s kills, range) | docker stack deploy | swarm | swarm / stack deploy |\n' "$KILLS"
  printf '|---|---|---|---|\n'
  krow "killed task healthy again (restart delay 5 s, healthcheck interval 1 s)" healthy
  krow "killed task running again (restart delay 0 s)" quick
}

if want converge; then converge_phase; fi
if want kill; then kill_phase; fi
