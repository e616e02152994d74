#!/usr/bin/env bash
# Operations figures for examples/hello on the process driver:
#  (a) first-request latency from zero: the app scales to zero (idle_stop 1s); N times (default 20) wait until its
#      instance is stopped, then time one request through the router (held while the instance boots);
#  (b) restart time of a killed instance: SIGKILL the unikernel process, time until the router serves it again.
# Loopback only; its own server on free ports, a throw-away data directory.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
n="${1:-20}"
work="$(mktemp -d)"
# Instances outlive the server by design: end them too. SIGKILL, because a sandbox's pid-namespace init ignores
# SIGTERM sent from outside; killing it ends everything inside.
trap 'kill $server_pid 2>/dev/null; wait $server_pid 2>/dev/null || true; python3 "$root/bench/stop_instances.py" "$work/data"; pkill -KILL -f "$work/data/" 2>/dev/null || true; rm -rf "$work"' EXIT

"$root/mayfly" --version >/dev/null
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
api=$(free_port); router=$(free_port)
"$root/mayfly" server --data "$work/data" --listen 127.0.0.1:$api --router 127.0.0.1:$router >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 100); do [ -f "$work/data/server.json" ] && break; sleep 0.1; done
export MAYFLY_DATA="$work/data"
token=$(cat "$work/data/admin.token")
instances() { curl -fsS -H "Authorization: Bearer $token" "http://127.0.0.1:$api/api/v1/apps/$1/instances"; }
now_ms() { date +%s%3N; }
median() { sort -n | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

deploy() { # app, extra manifest sed
  "$root/mayfly" apps:create "$1" >/dev/null
  rm -rf "$work/$1"; cp -r "$root/examples/hello" "$work/$1"; rm -f "$work/$1/hello"
  (cd "$work/$1" && sed -i "$2" mayfly.toml && git init -q && git add -A \
    && git -c user.name=b -c user.email=b@b commit -qm x && git push -q "http://mayfly:$token@127.0.0.1:$api/git/$1.git" HEAD:main 2>/dev/null)
}

deploy sleepy 's/instances = 1/instances = 0\nidle_stop = "1s"/'
: > "$work/zero"
for i in $(seq "$n"); do
  for _ in $(seq 200); do [ "$(instances sleepy)" = "[]" ] && break; sleep 0.05; done
  t=$(curl -s -o /dev/null -w '%{time_total}' -H "Host: sleepy.localhost" "http://127.0.0.1:$router/")
  awk -v t="$t" 'BEGIN { printf "%.1f\n", t * 1000 }' | tee -a "$work/zero" >/dev/null
done
echo "first request from zero (process driver), ms, n=$n: median $(median < "$work/zero"), min $(sort -n "$work/zero" | head -1), max $(sort -n "$work/zero" | tail -1)"

# One app per kill: every kill is the first crash of its streak, which is restarted at once (no back-off).
: > "$work/restart"
for i in $(seq 5); do
  deploy "steady$i" 's/^$//'
  pid=$(instances "steady$i" | sed -n 's/.*"pid":\([0-9]*\).*/\1/p' | head -1)
  app=$(pgrep -P "$(pgrep -P "$pid" | head -1)" | head -1)
  start=$(now_ms)
  kill -9 "${app:-$pid}"
  # served again = a 200 from a new instance (the killed one can no longer answer)
  until curl -fs -o /dev/null -H "Host: steady$i.localhost" "http://127.0.0.1:$router/"; do sleep 0.002; done
  echo $(( $(now_ms) - start )) >> "$work/restart"
done
echo "restart of a SIGKILLed instance until served again, ms, n=5: median $(median < "$work/restart"), all: $(tr '\n' ' ' < "$work/restart")"
