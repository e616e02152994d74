#!/usr/bin/env bash
# Registry throughput: upload of a SIZE_MIB (default 256) MiB image through the API (streamed, hashed, fsynced),
# then downloads of the same artifact through Mayfly (which re-hashes it before sending a byte) next to nginx
# serving the same file from disk, interleaved, ROUNDS (default 3) each. Loopback only; prints MiB/s and medians.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
size_mib="${SIZE_MIB:-256}"; rounds="${ROUNDS:-3}"
work="$(mktemp -d)"
trap 'kill $server_pid 2>/dev/null; wait $server_pid 2>/dev/null; [ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid")" 2>/dev/null; rm -rf "$work"' EXIT

"$root/mayfly" --version >/dev/null
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
api=$(free_port); router=$(free_port); nginx_port=$(free_port)
"$root/mayfly" server --data "$work/data" --listen 127.0.0.1:$api --router 127.0.0.1:$router --max-upload 8G >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 100); do [ -f "$work/data/server.json" ] && break; sleep 0.1; done
export MAYFLY_DATA="$work/data"
token=$(cat "$work/data/admin.token")
"$root/mayfly" apps:create reg >/dev/null

mkdir -p "$work/www"; chmod 755 "$work" "$work/www"   # nginx workers run as www-data
head -c $((size_mib << 20)) /dev/urandom > "$work/www/big.img"; chmod 644 "$work/www/big.img"
sha=$(sha256sum "$work/www/big.img" | cut -d' ' -f1)
mib() { awk -v b="$1" 'BEGIN { printf "%.0f", b / 1048576 }'; }
median() { sort -n | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

up=$(curl -sS -o "$work/upload.json" -w '%{speed_upload}' -X POST -T "$work/www/big.img" \
  -H "Authorization: Bearer $token" -H "Content-Type: application/octet-stream" \
  "http://127.0.0.1:$api/api/v1/apps/reg/builds?artifact=big.img&sha256=$sha")
grep -q '"build":1' "$work/upload.json" || { echo "upload failed: $(cat "$work/upload.json")" >&2; exit 1; }
echo "upload of $size_mib MiB: $(mib "$up") MiB/s (streamed to disk, sha256 computed while receiving, fsynced)"

cat > "$work/nginx.conf" <<CONF
worker_processes 1;
pid $work/nginx.pid;
error_log $work/nginx-error.log;
events { worker_connections 64; }
http {
  access_log off;
  sendfile on;
  client_body_temp_path $work/tmp; proxy_temp_path $work/tmp; fastcgi_temp_path $work/tmp; uwsgi_temp_path $work/tmp; scgi_temp_path $work/tmp;
  server { listen 127.0.0.1:$nginx_port; root $work/www; }
}
CONF
mkdir -p "$work/tmp"; nginx -c "$work/nginx.conf"
sleep 0.3
printf '%-6s %-8s %10s\n' round target 'MiB/s'
for r in $(seq "$rounds"); do
  m=$(curl -sS -o /dev/null -w '%{speed_download}' -H "Authorization: Bearer $token" "http://127.0.0.1:$api/job/reg/build/1/artifact/big.img")
  n=$(curl -sS -o /dev/null -w '%{speed_download}' "http://127.0.0.1:$nginx_port/big.img")
  printf '%-6s %-8s %10s\n' "$r" mayfly "$(mib "$m")" "$r" nginx "$(mib "$n")"
  echo "$(mib "$m")" >> "$work/mayfly"; echo "$(mib "$n")" >> "$work/nginx"
done
mm=$(median < "$work/mayfly"); nm=$(median < "$work/nginx")
echo "download medians: mayfly $mm MiB/s, nginx $nm MiB/s, ratio $(awk -v a="$mm" -v b="$nm" 'BEGIN { printf "%.2f", a / b }')"
echo "(Mayfly re-hashes each artifact before it sends a byte, so a corrupt blob is never served: that read is part of its figure)"
