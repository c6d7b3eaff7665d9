#!/usr/bin/env bash
# scripts/deps.sh: install the Debian 12 packages yubin builds, runs and tests with.
#   scripts/deps.sh run    # what building and running needs
#   scripts/deps.sh test   # also the test tools (clients, servers, browser)
set -euo pipefail
RUN_PKGS="build-essential cmake pkg-config libpq-dev libjansson-dev libsodium-dev libfcgi-dev
 libmicrohttpd-dev libssl-dev libcurl4-openssl-dev liboath-dev libqrencode-dev postgresql openssl"
TEST_PKGS="clang libclang-rt-14-dev python3 python3-pytest python3-requests python3-psycopg2
 swaks libfcgi-bin nginx-light chromium fonts-ipafont-gothic rspamd clamav-daemon dovecot-imapd
 dovecot-pop3d dovecot-pgsql"
want=$RUN_PKGS
[ "${1:-run}" = test ] && want="$RUN_PKGS $TEST_PKGS"
# The machine image may bring its own Node.js and npm; Debian's npm conflicts with it.
if [ "${1:-run}" = test ] && ! command -v npm >/dev/null 2>&1; then want="$want nodejs npm"; fi
missing=""
for p in $want; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
	[ "$(id -u)" = 0 ] || { echo "deps.sh: missing packages:$missing (run as root)" >&2; exit 1; }
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	# Installing servers starts their system services (nginx on 80, dovecot on 110/143,
	# clamd, rspamd); policy-rc.d keeps them from starting: tests run their own copies.
	printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
	apt-get install -y -qq --no-install-recommends $missing
	rm -f /usr/sbin/policy-rc.d
fi
