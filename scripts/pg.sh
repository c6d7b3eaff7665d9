#!/usr/bin/env bash
# scripts/pg.sh: start or stop a private PostgreSQL cluster as the unprivileged user `yubin`
# (initdb refuses root; a checkout under /root is not reachable by that user, so the
# cluster lives in a folder of its own). Used by the run command and the test runner.
#   scripts/pg.sh start DIR PORT   # prints nothing; the cluster listens on 127.0.0.1:PORT
#   scripts/pg.sh stop DIR
set -euo pipefail

PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -n "$PGBIN" ] || { echo "pg.sh: PostgreSQL server binaries not found" >&2; exit 1; }

as_pg() {
	if [ "$(id -u)" = 0 ]; then runuser -u yubin -- "$@"; else "$@"; fi
}

case "${1:-}" in
start)
	dir=$2 port=$3
	if [ "$(id -u)" = 0 ] && ! id yubin >/dev/null 2>&1; then
		useradd --system --home-dir /var/lib/yubin --shell /usr/sbin/nologin yubin
	fi
	mkdir -p "$dir"
	[ "$(id -u)" = 0 ] && chown yubin: "$dir"
	if [ ! -s "$dir/data/PG_VERSION" ]; then
		as_pg "$PGBIN/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 ||
			{ cat "$dir/initdb.log" >&2; exit 1; }
	fi
	mkdir -p "$dir/sock"
	[ "$(id -u)" = 0 ] && chown yubin: "$dir/sock"
	as_pg "$PGBIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
		-o "-p $port -k $dir/sock -c listen_addresses=127.0.0.1 -c fsync=${YUBIN_PG_FSYNC:-on} -c max_connections=300" \
		start >/dev/null || { tail -n 30 "$dir/server.log" >&2; exit 1; }
	;;
stop)
	dir=$2
	[ -d "$dir/data" ] && as_pg "$PGBIN/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
	;;
*)
	echo "usage: pg.sh start DIR PORT | stop DIR" >&2
	exit 2
	;;
esac
