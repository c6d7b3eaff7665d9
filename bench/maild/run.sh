#!/usr/bin/env bash
# bench/maild/run.sh: run the maild benchmark against a throwaway PostgreSQL on a release build.
# Usage: bench/maild/run.sh   (BENCH_MESSAGES=N to change the message count)
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cmake -S "$top" -B "$top/build-bench" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$top/build-bench" -j"$(nproc)" --target yubin-maild yubinctl >/dev/null
pgdir=$(mktemp -d /var/tmp/yubin-bench-pg.XXXXXX)
chmod 755 "$pgdir"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
trap '"$top/scripts/pg.sh" stop "$pgdir/c"; rm -rf "$pgdir"' EXIT
"$top/scripts/pg.sh" start "$pgdir/c" "$port"
psql -q -h 127.0.0.1 -p "$port" -U postgres -d postgres -c 'CREATE DATABASE yubin_template'
"$top/build-bench/yubinctl" --db "host=127.0.0.1 port=$port user=postgres dbname=yubin_template" migrate >/dev/null
YUBIN_TEST_PGPORT=$port YUBIN_BUILD="$top/build-bench" YUBIN_SRC="$top" /usr/bin/python3 "$top/bench/maild/bench.py"
