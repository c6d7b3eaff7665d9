#!/usr/bin/env bash
# bench/maild/run.sh: yubin-maild (release build) side by side with Postfix + Dovecot LMTP on one
# throwaway PostgreSQL, one load generator (bench/maild/smtpload.c), 1 and 20 senders.
# Usage: bench/maild/run.sh   (BENCH_MESSAGES=N per run, default 4000; BENCH_BUILD=DIR, default build-bench)
# Installs postfix, postfix-pgsql, dovecot-lmtpd and dovecot-pgsql when missing (as root; their
# system services are kept from starting: the benchmark runs private instances).
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${BENCH_BUILD:-$top/build-bench}
missing=""
for p in postfix postfix-pgsql dovecot-lmtpd dovecot-pgsql; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
	[ "$(id -u)" = 0 ] || { echo "run.sh: missing packages:$missing (run as root)" >&2; exit 1; }
	export DEBIAN_FRONTEND=noninteractive
	echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
	apt-get update -qq
	printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
	apt-get install -y -qq --no-install-recommends $missing >/dev/null
	rm -f /usr/sbin/policy-rc.d
fi
cmake -S "$top" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" -j"$(nproc)" --target yubin-maild yubinctl >/dev/null
cc -O2 -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -pthread -o "$build/smtpload" "$top/bench/maild/smtpload.c"
pgdir=$(mktemp -d /var/tmp/yubin-bench-pg.XXXXXX)
chmod 755 "$pgdir"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
trap '"$top/scripts/pg.sh" stop "$pgdir/c"; rm -rf "$pgdir"' EXIT
"$top/scripts/pg.sh" start "$pgdir/c" "$port"
psql -q -h 127.0.0.1 -p "$port" -U postgres -d postgres -c 'CREATE DATABASE yubin_template'
"$build/yubinctl" --db "host=127.0.0.1 port=$port user=postgres dbname=yubin_template" migrate >/dev/null
BENCH_LOAD="$build/smtpload" BENCH_PGDATA="$pgdir/c/data" YUBIN_TEST_PGPORT=$port YUBIN_BUILD="$build" \
	YUBIN_SRC="$top" /usr/bin/python3 "$top/bench/maild/bench.py"
