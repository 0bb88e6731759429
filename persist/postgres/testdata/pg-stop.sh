#!/usr/bin/env bash
# pg-stop.sh [--purge]: stop the cluster pg-start.sh started (fast shutdown);
# --purge also deletes its directory. Stopping a stopped cluster is not an
# error; a later pg-start.sh starts it again on the same port.
set -euo pipefail
DIR="${THUNDERLINE_PG_DIR:-/tmp/thunderline-pg}"
BIN=""
for d in /usr/lib/postgresql/*/bin; do [ -x "$d/pg_ctl" ] && BIN="$d"; done
[ -z "$BIN" ] && command -v pg_ctl >/dev/null 2>&1 && BIN="$(dirname "$(command -v pg_ctl)")"
if [ -n "$BIN" ] && [ -f "$DIR/data/PG_VERSION" ]; then
	if [ "$(id -u)" = 0 ]; then
		runuser -u postgres -- "$BIN/pg_ctl" -D "$DIR/data" -m fast -w stop >/dev/null 2>&1 || true
	else
		"$BIN/pg_ctl" -D "$DIR/data" -m fast -w stop >/dev/null 2>&1 || true
	fi
fi
if [ "${1:-}" = "--purge" ]; then rm -rf "$DIR"; fi
