#!/bin/sh
# The unikernel host of seed 003 ("doesn't need any secrets"): run from cron every few minutes, it downloads the
# job's latest artifact from the registry, checks it with sha256sum against the Digest header the registry sent, and
# deploys it when its sha256 differs from what the host runs. It holds no token. PublicAppsTest runs it as it is,
# with only SERVER and JOB set for its server.
set -eu
SERVER=http://builds.example.org
JOB=mirage-www

curl -fsSL -D headers.txt "$SERVER/job/$JOB/build/latest/artifact/hello" -o hello
got=$(sha256sum hello | cut -d ' ' -f 1)
# Digest: sha-256=BASE64 of the 32 bytes (RFC 3230). curl -L writes the redirect's headers first: take the last one.
digest=$(grep -i '^digest: *sha-256=' headers.txt | tail -n 1 | sed 's/^[^=]*=//' | tr -d '\r ')
want=$(printf '%s' "$digest" | base64 -d | od -An -v -tx1 | tr -d ' \n')
echo "sha256sum: $got"
echo "Digest:    $want"
if [ "$got" != "$want" ]; then
    echo "the download does not match its Digest: not deploying" >&2
    exit 1
fi
if [ -f deployed.sha256 ] && [ "$(cat deployed.sha256)" = "$got" ]; then
    echo "unchanged: already running $got"
else
    echo "new artifact: deploying $got"
    cp hello running-hello
    echo "$got" > deployed.sha256
fi
