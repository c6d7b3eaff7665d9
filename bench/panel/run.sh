#!/usr/bin/env bash
# bench/panel/run.sh: the admin panel (release yubin-panel, FastCGI behind nginx and its embedded
# HTTP server) side by side with PostfixAdmin (nginx + php-fpm) on one throwaway PostgreSQL,
# both seeded with BENCH_ACCOUNTS accounts/mailboxes in one domain; wrk for a signed-in session:
# account list (50 rows), one account, login form, sign-in POST; PSS per system; the Argon2id
# bound of the same machine in the same run. Results in bench/README.md ("panel").
# Usage: bench/panel/run.sh   (BENCH_ACCOUNTS=10000, BENCH_DURATION=15s, BENCH_CONNECTIONS=16,
#   BENCH_BUILD=DIR (default build-panelbench-rel), BENCH_PFA_ENCRYPT=md5crypt|php_crypt:ARGON2ID|...,
#   BENCH_SKIP_PFA=1 to measure yubin alone)
# Installs wrk, php-fpm, php-pgsql, php-imap, php-mbstring and postfixadmin when missing (as root;
# a policy-rc.d that exits 101 keeps their services from starting, dbconfig is told to stay out:
# the benchmark runs private php-fpm and nginx instances on loopback ports).
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${BENCH_BUILD:-$top/build-panelbench-rel}
pkgs="wrk"
[ -n "${BENCH_SKIP_PFA:-}" ] || pkgs="$pkgs php-fpm php-pgsql php-imap php-mbstring postfixadmin"
missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
	[ "$(id -u)" = 0 ] || { echo "run.sh: missing packages:$missing (run as root)" >&2; exit 1; }
	export DEBIAN_FRONTEND=noninteractive
	echo "postfixadmin postfixadmin/dbconfig-install boolean false" | debconf-set-selections
	apt-get update -qq
	printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
	apt-get install -y -qq --no-install-recommends $missing >/dev/null
	rm -f /usr/sbin/policy-rc.d
fi
cmake -S "$top" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" -j"$(nproc)" --target yubin-panel yubinctl yubin_core >/dev/null
# The Argon2id bound through the panel's own core/password.c (bench/csv/hashtime.c).
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
	BENCH_HASHTIME="$build/hashtime" /usr/bin/python3 "$top/bench/panel/bench.py"
