#!/usr/bin/env bash
# Router throughput: wrk against the static C server of examples/hello directly, through nginx and
# through Mayfly's router, interleaved, ROUNDS rounds (default 3); prints every run and the medians
# of req/s, p50 and p99, and the Mayfly/nginx ratios.
#
# Fairness: nginx and the router get the same number of worker threads, PROXY_THREADS (default 1:
# the machine has 2 cores, and wrk's 2 threads plus the backend already want more than that).
# Both add the same X-Forwarded-* headers and keep 64+ idle connections to the backend.
# Loopback only; everything started here is stopped on exit.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
rounds="${ROUNDS:-3}"
duration="${DURATION:-10s}"
proxy_threads="${PROXY_THREADS:-1}"
hello_dir="${HELLO_DIR:-$root/examples/hello}"   # HELLO_DIR: another build of the same server
export JAVA_HOME="${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}"
java="$JAVA_HOME/bin/java"

work="$(mktemp -d)"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_http() { # url host
  for _ in $(seq 200); do
    curl -fsS -o /dev/null -H "Host: $2" "$1" 2>/dev/null && return 0
    sleep 0.05
  done
  echo "router.sh: nothing answers $1 (Host: $2) after 10 s; logs are in $work" >&2
  exit 1
}

if [ ! -f "$hello_dir/Makefile" ]; then
  echo "router.sh: no Makefile in $hello_dir; set HELLO_DIR to a folder whose Makefile builds ./hello" >&2
  exit 1
fi
make -s -C "$hello_dir" >/dev/null
if [ -n "${ROUTER_CLASSPATH:-}" ]; then   # ROUTER_CLASSPATH: router classes built elsewhere, skips Maven
  classpath="$ROUTER_CLASSPATH"
else
  if ! (cd "$root" && flock /tmp/mvn-agent.lock ./mvnw -q -pl agent -am compile \
      org.apache.maven.plugins:maven-dependency-plugin:3.8.1:build-classpath \
      -Dmdep.outputFile="$work/classpath.txt") >"$work/build.log" 2>&1; then
    cat "$work/build.log" >&2
    echo "router.sh: building the agent module failed (output above)" >&2
    exit 1
  fi
  classpath="$root/agent/target/classes:$(cat "$work/classpath.txt")"
fi

backend_port=$(free_port); nginx_port=$(free_port); mayfly_port=$(free_port)
"$hello_dir/hello" --port "$backend_port" >"$work/hello.log" 2>&1 &
pids+=($!)

mkdir -p "$work/nginx/tmp"
cat >"$work/nginx/nginx.conf" <<EOF
user root;
worker_processes $proxy_threads;
daemon off;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $work/nginx/tmp/body;
  proxy_temp_path $work/nginx/tmp/proxy;
  fastcgi_temp_path $work/nginx/tmp/fastcgi;
  uwsgi_temp_path $work/nginx/tmp/uwsgi;
  scgi_temp_path $work/nginx/tmp/scgi;
  keepalive_requests 1000000;
  upstream hello { server 127.0.0.1:$backend_port; keepalive 64; }
  server {
    listen 127.0.0.1:$nginx_port;
    location / {
      proxy_pass http://hello;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host \$http_host;
      proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto http;
      proxy_set_header X-Forwarded-Host \$http_host;
    }
  }
}
EOF
nginx -p "$work/nginx" -c "$work/nginx/nginx.conf" &
pids+=($!)

"$java" -XX:+UseParallelGC -Xms512m -Xmx512m --enable-native-access=ALL-UNNAMED \
  --sun-misc-unsafe-memory-access=allow \
  -cp "$classpath" io.mayfly.agent.router.StandaloneRouter \
  --listen "127.0.0.1:$mayfly_port" --domain localhost --route "hello=127.0.0.1:$backend_port" \
  --threads "$proxy_threads" >"$work/mayfly.log" 2>&1 &
pids+=($!)

wait_http "http://127.0.0.1:$backend_port/" hello.localhost
wait_http "http://127.0.0.1:$nginx_port/" hello.localhost
wait_http "http://127.0.0.1:$mayfly_port/" hello.localhost

# wrk output -> "req/s p50_ms p99_ms"
summarize() {
  awk '
    function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
    /Requests\/sec:/ { rps = $2 }
    $1 == "50%" { p50 = ms($2) }
    $1 == "99%" { p99 = ms($2) }
    / Socket errors| Non-2xx/ { errors = errors $0 }
    END { printf "%.0f %.3f %.3f%s\n", rps, p50, p99, (errors == "" ? "" : " ERRORS:" errors) }'
}
run_wrk() { # name port seconds
  wrk -t2 -c64 -d"$3" --latency -H "Host: hello.localhost" "http://127.0.0.1:$2/" | summarize
}

declare -A port=([direct]=$backend_port [nginx]=$nginx_port [mayfly]=$mayfly_port)
targets=(direct nginx mayfly)
echo "warming up nginx and mayfly (5 s each, not counted)"
run_wrk nginx "$nginx_port" 5s >/dev/null
run_wrk mayfly "$mayfly_port" 5s >/dev/null

printf '%-6s %-7s %10s %9s %9s\n' round target 'req/s' 'p50 ms' 'p99 ms'
for round in $(seq "$rounds"); do
  for target in "${targets[@]}"; do
    result=$(run_wrk "$target" "${port[$target]}" "$duration")
    echo "$target $result" >>"$work/results"
    read -r rps p50 p99 rest <<<"$result"
    printf '%-6s %-7s %10s %9s %9s %s\n' "$round" "$target" "$rps" "$p50" "$p99" "$rest"
  done
done

median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
echo
echo "medians of $rounds rounds (wrk -t2 -c64 -d$duration; proxies with $proxy_threads worker thread(s))"
declare -A med
for target in "${targets[@]}"; do
  for col in 2 3 4; do
    med[$target,$col]=$(awk -v t="$target" -v c="$col" '$1 == t { print $c }' "$work/results" | median)
  done
  printf '%-7s %10.0f req/s   p50 %7.3f ms   p99 %7.3f ms\n' "$target" "${med[$target,2]}" "${med[$target,3]}" "${med[$target,4]}"
done
awk -v mr="${med[mayfly,2]}" -v nr="${med[nginx,2]}" -v m50="${med[mayfly,3]}" -v n50="${med[nginx,3]}" \
    -v m99="${med[mayfly,4]}" -v n99="${med[nginx,4]}" \
  'BEGIN { printf "mayfly/nginx: req/s %.2f   p50 %.2f   p99 %.2f\n", mr / nr, m50 / n50, m99 / n99 }'
