#!/usr/bin/env bash
# Push-to-live: N pushes (default 10) of an example (EXAMPLE, default hello; EXAMPLE=hello-vm boots VMs under
# QEMU), each a new version string, timed from `git push` starting to the push returning with the app live;
# prints each push's phases, boot-to-first-response (boot + health: from starting the instance to its first
# HTTP 200) and the medians.
# Loopback only; starts its own server on free ports with a throw-away data directory.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
n="${1:-10}"
example="${EXAMPLE:-hello}"
work="$(mktemp -d)"
# Instances outlive the server by design: end them too. SIGKILL, because a sandbox's pid-namespace init ignores
# SIGTERM sent from outside; killing it ends everything inside.
trap 'kill $server_pid 2>/dev/null; wait $server_pid 2>/dev/null || true; python3 "$root/bench/stop_instances.py" "$work/data"; pkill -KILL -f "$work/data/" 2>/dev/null || true; rm -rf "$work"' EXIT

"$root/mayfly" --version >/dev/null            # builds the distribution if needed, outside the timing
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
api=$(free_port); router=$(free_port)
"$root/mayfly" server --data "$work/data" --listen 127.0.0.1:$api --router 127.0.0.1:$router >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 100); do [ -f "$work/data/server.json" ] && break; sleep 0.1; done
export MAYFLY_DATA="$work/data"
"$root/mayfly" apps:create bench >/dev/null
token=$(cat "$work/data/admin.token")

mkdir -p "$work/repo"
# The example's sources as git sees them: never build outputs left in the work tree.
(cd "$root" && git ls-files -co --exclude-standard "examples/$example") | while read -r f; do
  mkdir -p "$work/repo/$(dirname "${f#examples/$example/}")"; cp "$root/$f" "$work/repo/${f#examples/$example/}"
done
cd "$work/repo"
git init -q && git add -A && git -c user.name=bench -c user.email=bench@mayfly.invalid commit -qm init

to_ms() { awk '{ if ($2 == "s") printf "%d", $1 * 1000; else printf "%d", $1 }'; }
printf '%-4s %8s %8s %8s %8s %8s %8s %8s %8s %8s %8s %10s %10s\n' push total build store dispatch fetch boot health test switch drain mayfly-own first-resp
for i in $(seq "$n"); do
  sed -i "s/#define VERSION \".*\"/#define VERSION \"bench-$i\"/" hello.c
  git -c user.name=bench -c user.email=bench@mayfly.invalid commit -qam "bench $i"
  start=$(date +%s%N)
  out=$(git push -q "http://mayfly:$token@127.0.0.1:$api/git/bench.git" HEAD:main 2>&1)
  total=$(( ($(date +%s%N) - start) / 1000000 ))
  line=$(grep -- '-----> Live at' <<<"$out" | sed 's/.*(\(.*\))/\1/')
  declare -A ph=()
  IFS=',' read -ra parts <<<"$line"
  for p in "${parts[@]}"; do
    p="${p# }"; name="${p%% *}"; ph[$name]=$(echo "${p#* }" | to_ms)
  done
  own=$(( total - ${ph[build]:-0} ))
  first=$(( ${ph[boot]:-0} + ${ph[health]:-0} ))
  printf '%-4s %8s %8s %8s %8s %8s %8s %8s %8s %8s %8s %10s %10s\n' "$i" "$total" "${ph[build]:-?}" "${ph[store]:-?}" "${ph[dispatch]:-0}" "${ph[fetch]:-0}" "${ph[boot]:-?}" "${ph[health]:-?}" "${ph[test]:-0}" "${ph[switch]:-?}" "${ph[drain]:-?}" "$own" "$first" | tee -a "$work/rows"
  curl -fsS -H "Host: bench.localhost" "http://127.0.0.1:$router/" | grep -q "bench-$i" || { echo "push $i: not serving bench-$i" >&2; exit 1; }
done
median() { sort -n | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else print int((a[NR / 2] + a[NR / 2 + 1]) / 2) }'; }
printf '%-4s' med
for col in 2 3 4 5 6 7 8 9 10 11; do printf ' %8s' "$(awk -v c=$col '{print $c}' "$work/rows" | median)"; done
printf ' %10s %10s\n' "$(awk '{print $12}' "$work/rows" | median)" "$(awk '{print $13}' "$work/rows" | median)"
echo "(milliseconds; total = git push start to return with the app live; mayfly-own = total - build;"
echo " first-resp = boot + health, from starting the instance to its first HTTP 200; example: $example)"
