#!/usr/bin/env bash
# bench/csv/run.sh: CSV bulk create of 10,000 accounts on a release build against a throwaway
# PostgreSQL, compared with the Argon2id bound measured in the same run (bench/README.md).
# Usage: bench/csv/run.sh   (BENCH_ROWS=N to change the row count)
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
build="$top/build-bench-csv"
cmake -S "$top" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" -j"$(nproc)" --target yubin-panel yubinctl yubin_core >/dev/null
# One hash timed through the panel's own core/password.c.
cc -O2 -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -I"$top" "$top/bench/csv/hashtime.c" \
	"$build/libyubin_core.a" $(pkg-config --libs libpq jansson libsodium liboath libqrencode) \
	-lpthread -o "$build/hashtime"
pgdir=$(mktemp -d /var/tmp/yubin-bench-pg.XXXXXX)
chmod 755 "$pgdir"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
trap '"$top/scripts/pg.sh" stop "$pgdir/c"; rm -rf "$pgdir"' EXIT
"$top/scripts/pg.sh" start "$pgdir/c" "$port"
psql -q -h 127.0.0.1 -p "$port" -U postgres -d postgres -c 'CREATE DATABASE yubin_template'
"$build/yubinctl" --db "host=127.0.0.1 port=$port user=postgres dbname=yubin_template" migrate >/dev/null
YUBIN_TEST_PGHOST=127.0.0.1 YUBIN_TEST_PGPORT=$port YUBIN_BUILD="$build" YUBIN_SRC="$top" \
	BENCH_HASHTIME="$build/hashtime" /usr/bin/python3 "$top/bench/csv/bench.py"
