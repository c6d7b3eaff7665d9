#!/usr/bin/env bash
# run.sh: the whole system on this machine — builds, starts a local PostgreSQL (or uses
# YUBIN_DB), migrates, creates the demo domain and a superadmin, then serves the panel on
# http://127.0.0.1:8080 and yubin-maild on the loopback ports of CONTRACT.md until Ctrl-C.
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")"
scripts/deps.sh run
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)"

state=${YUBIN_STATE:-/var/lib/yubin}
mkdir -p "$state"
pids=()
own_pg=""
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	# The cluster this script started goes with it (YUBIN_DB is set below, so test our own flag).
	if [ -n "$own_pg" ]; then scripts/pg.sh stop "$state/pg" || true; fi
}
trap cleanup EXIT INT TERM

if [ -z "${YUBIN_DB:-}" ]; then
	port=${YUBIN_PG_PORT:-55432}
	own_pg=1
	scripts/pg.sh start "$state/pg" "$port"
	psql -q -h 127.0.0.1 -p "$port" -U postgres -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname='yubin'" | grep -q 1 ||
		psql -q -h 127.0.0.1 -p "$port" -U postgres -d postgres -c 'CREATE DATABASE yubin'
	export YUBIN_DB="host=127.0.0.1 port=$port user=postgres dbname=yubin"
fi
build/yubinctl migrate
build/yubinctl domain add example.test 2>/dev/null || true
password=$(python3 -c 'import secrets,string; a=string.ascii_letters+string.digits; print("Yb#"+"".join(secrets.choice(a) for _ in range(14))+"9a")')
echo "$password" | build/yubinctl admin add admin --role superadmin --password-stdin >/dev/null

# Mail: a self-signed certificate for STARTTLS and the implicit-TLS ports.
mkdir -p "$state/tls" "$state/mail"
if [ ! -s "$state/tls/tls.crt" ]; then
	openssl req -x509 -newkey rsa:2048 -nodes -days 825 -subj "/CN=mx.example.test" \
		-keyout "$state/tls/tls.key" -out "$state/tls/tls.crt" >/dev/null 2>&1
fi
cat >"$state/maild.conf" <<CONF
db = $YUBIN_DB
hostname = mx.example.test
maildir_root = $state/mail
smtp_listen = 127.0.0.1:2525
submission_listen = 127.0.0.1:2587
smtps_listen = 127.0.0.1:2465
pop3_listen = 127.0.0.1:2110
pop3s_listen = 127.0.0.1:2995
tls_cert = $state/tls/tls.crt
tls_key = $state/tls/tls.key
relay = 127.0.0.1:2526
spam = none
virus = none
metrics_listen = 127.0.0.1:9187
CONF
build/yubin-maild --config "$state/maild.conf" &
pids+=($!)
build/yubin-panel --http 127.0.0.1:8080 &
panel=$!
pids+=($panel)
cat <<MSG

yubin is running.
  panel:       http://127.0.0.1:8080/admin/login   (users: http://127.0.0.1:8080/mail/login)
  superadmin:  admin / $password
  demo domain: example.test
  mail:        SMTP 127.0.0.1:2525, submission 2587 (STARTTLS) / 2465 (TLS), POP3 2110 / 2995
  database:    $YUBIN_DB
Press Ctrl-C to stop.
MSG
# The panel is the foreground service; if maild stops, say so and keep serving.
wait "$panel" || true
