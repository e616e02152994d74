#!/usr/bin/env bash
# Failed requests and the longest gap between two answers through the router while mayfly server is restarted
# (SIGTERM), killed (SIGKILL) and upgraded, and while a remote agent is replaced: bench/restart.py, on the jar built
# here (or JAR=...). See bench/README.md.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
. "$root/.mvn/find-jdk.sh"
jar="${JAR:-$root/dist/target/mayfly.jar}"
if [ -z "${JAR:-}" ]; then
  (cd "$root" && ./mvnw -q -B -Dmaven.test.skip=true package) >/dev/null
fi
exec python3 "$root/bench/restart.py" "$jar" "$@"
