#!/usr/bin/env bash
# test.sh: every test — unit, fuzz smoke runs, integration against real PostgreSQL clusters,
# end-to-end mail and browser tests — on sanitizer builds. Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")"
top=$PWD
scripts/deps.sh test
jobs=$(nproc)

if [ -f tests/browser/package.json ] && [ ! -d tests/browser/node_modules/playwright-core ]; then
	(cd tests/browser && npm install --no-audit --no-fund --loglevel=error)
fi

cmake -S . -B build-test -DYUBIN_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug >/dev/null
cmake --build build-test -j"$jobs"

# Fuzz targets build with clang (gcc 12 has no libFuzzer) and run briefly.
cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DYUBIN_FUZZ=ON -DCMAKE_BUILD_TYPE=Debug >/dev/null
cmake --build build-fuzz -j"$jobs"

# One private PostgreSQL cluster for the run; each suite makes its own databases from
# the migrated template.
pgdir=$(mktemp -d /var/tmp/yubin-test-pg.XXXXXX)
chmod 755 "$pgdir"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cleanup() { scripts/pg.sh stop "$pgdir/c"; rm -rf "$pgdir"; }
trap cleanup EXIT
YUBIN_PG_FSYNC=off scripts/pg.sh start "$pgdir/c" "$port"
export YUBIN_TEST_PGHOST=127.0.0.1 YUBIN_TEST_PGPORT=$port
psql -q -h 127.0.0.1 -p "$port" -U postgres -d postgres -c 'CREATE DATABASE yubin_template'
build-test/yubinctl --db "host=127.0.0.1 port=$port user=postgres dbname=yubin_template" migrate >/dev/null

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:strict_string_checks=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export LSAN_OPTIONS=suppressions=$top/tests/lsan.supp:print_suppressions=0

ctest --test-dir build-fuzz -L fuzz --output-on-failure -j"$jobs"
ctest --test-dir build-test --output-on-failure -j"$jobs" --timeout 900
