#!/usr/bin/env bash
# Build finished -> served by a remote agent: a control plane (mayfly server --no-agent) and one agent on its own
# ports, N pushes (default 10) with the agent following the event stream, then N with the agent polling
# (--no-stream, POLL_INTERVAL default 2s). For each push, from the push's phases: store (artifact into the
# registry), dispatch (the server tells the agent and hears back, minus the agent's own phases), fetch (the agent
# downloads and checks the artifact), boot, health, switch; their sum is the time from the build finishing to the
# agent's router serving the new version. Prints each push and the medians of both modes.
# Loopback only; its own server and agent on free ports with throw-away data directories.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
n="${1:-10}"
interval="${POLL_INTERVAL:-2s}"
work="$(mktemp -d)"
cleanup() {
  kill $agent_pid $server_pid 2>/dev/null || true; wait 2>/dev/null || true
  # SIGKILL: a sandbox's pid-namespace init ignores SIGTERM sent from outside; killing it ends everything inside.
  python3 "$root/bench/stop_instances.py" "$work/agent" "$work/data"; pkill -KILL -f "$work/agent" 2>/dev/null || true; rm -rf "$work"
}
trap cleanup EXIT

"$root/mayfly" --version >/dev/null            # builds the distribution if needed, outside the timing
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
api=$(free_port); router=$(free_port)
"$root/mayfly" server --no-agent --data "$work/data" --listen 127.0.0.1:$api >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 100); do [ -f "$work/data/server.json" ] && break; sleep 0.1; done
export MAYFLY_DATA="$work/data"
"$root/mayfly" apps:create bench >/dev/null
token=$(cat "$work/data/admin.token")
agent_token=$("$root/mayfly" tokens:create --agent bench-host | grep '^mf_')

start_agent() {
  "$root/mayfly" agent --server "http://127.0.0.1:$api" --token "$agent_token" --name bench-host \
    --router 127.0.0.1:$router --data "$work/agent" "$@" >>"$work/agent.log" 2>&1 &
  agent_pid=$!
  for _ in $(seq 100); do grep -q "registered with" "$work/agent.log" 2>/dev/null && break; sleep 0.1; done
}

mkdir -p "$work/repo"
(cd "$root" && git ls-files -co --exclude-standard examples/hello) | while read -r f; do
  mkdir -p "$work/repo/$(dirname "${f#examples/hello/}")"; cp "$root/$f" "$work/repo/${f#examples/hello/}"
done
cd "$work/repo"
git init -q && git add -A && git -c user.name=bench -c user.email=bench@mayfly.invalid commit -qm init

to_ms() { awk '{ if ($2 == "s") printf "%d", $1 * 1000; else printf "%d", $1 }'; }
median() { sort -n | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else print int((a[NR / 2] + a[NR / 2 + 1]) / 2) }'; }
pushes() {
  local mode=$1 rows="$work/rows-$1"
  printf '%-7s %-4s %8s %8s %8s %8s %8s %8s %14s\n' mode push store dispatch fetch boot health switch build-to-served
  for i in $(seq "$n"); do
    sed -i "s/#define VERSION \".*\"/#define VERSION \"$mode-$i\"/" hello.c
    git -c user.name=bench -c user.email=bench@mayfly.invalid commit -qam "$mode $i"
    out=$(git push -q "http://mayfly:$token@127.0.0.1:$api/git/bench.git" HEAD:main 2>&1)
    line=$(grep -- '-----> Live at' <<<"$out" | sed 's/.*(\(.*\))/\1/')
    declare -A ph=()
    IFS=',' read -ra parts <<<"$line"
    for p in "${parts[@]}"; do p="${p# }"; ph[${p%% *}]=$(echo "${p#* }" | to_ms); done
    served=$(( ${ph[store]:-0} + ${ph[dispatch]:-0} + ${ph[fetch]:-0} + ${ph[boot]:-0} + ${ph[health]:-0} + ${ph[switch]:-0} ))
    printf '%-7s %-4s %8s %8s %8s %8s %8s %8s %14s\n' "$mode" "$i" "${ph[store]:-?}" "${ph[dispatch]:-?}" "${ph[fetch]:-?}" \
      "${ph[boot]:-?}" "${ph[health]:-?}" "${ph[switch]:-?}" "$served" | tee -a "$rows"
    curl -fsS -H "Host: bench.localhost" "http://127.0.0.1:$router/" | grep -q "$mode-$i" || { echo "push $i: agent not serving $mode-$i" >&2; exit 1; }
  done
  printf '%-7s %-4s' "$mode" med
  for col in 3 4 5 6 7 8; do printf ' %8s' "$(awk -v c=$col '{print $c}' "$rows" | median)"; done
  printf ' %14s\n\n' "$(awk '{print $9}' "$rows" | median)"
}

start_agent
pushes stream
kill $agent_pid; wait $agent_pid 2>/dev/null || true
start_agent --no-stream --interval "$interval"
pushes poll
echo "(milliseconds; build-to-served = store + dispatch + fetch + boot + health + switch: from the build finishing"
echo " to the agent's router serving the new version; poll mode polls every $interval)"
