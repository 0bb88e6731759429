#!/usr/bin/env bash
# pg-start.sh: start (or find running) a throwaway PostgreSQL cluster for the
# persist/postgres tests and print its DSN on stdout.
#
#   THUNDERLINE_PG_DIR  cluster directory (default /tmp/thunderline-pg)
#
# Installs Debian's postgresql when no initdb is found. Idempotent: a running
# cluster in the directory is reused; a stopped one is started again on the
# same port. The cluster trusts local connections (it is a test cluster) and
# holds:
#   thunderline        LOGIN NOSUPERUSER NOBYPASSRLS CREATEDB CREATEROLE
#                      (the migration role: owns the tables; the engine of
#                      single-tenant setups, choosing its tenant per
#                      transaction; creates the tenant login roles)
#   thunderline_system LOGIN NOSUPERUSER NOBYPASSRLS  (cross-tenant exports)
#   thunderline_engine NOLOGIN  (the group of the per-tenant engine logins)
#   thunderline_writers NOLOGIN (the group of the shipper's writer logins:
#                      inserts, and reads of only what the shipper needs)
#   thunderline_writer LOGIN BYPASSRLS, in thunderline_writers: a shipper's
#                      writer login (binary COPY straight into the tables;
#                      bound to a tenant in tenant_roles like any engine login)
#   database thunderline owned by thunderline
# The roles are made (or fixed) at every start, so an older cluster gets
# them too.
set -euo pipefail
DIR="${THUNDERLINE_PG_DIR:-/tmp/thunderline-pg}"
# shellcheck source=../../internal/testscript/free-port.sh
. "$(dirname "${BASH_SOURCE[0]}")/../../internal/testscript/free-port.sh"

find_bin() {
	local d
	for d in /usr/lib/postgresql/*/bin; do
		[ -x "$d/initdb" ] && { echo "$d"; return 0; }
	done
	command -v initdb >/dev/null 2>&1 && { dirname "$(command -v initdb)"; return 0; }
	return 1
}
BIN="$(find_bin || true)"
if [ -z "$BIN" ]; then
	if [ "$(id -u)" != 0 ]; then echo "pg-start: no initdb and not root to install postgresql" >&2; exit 1; fi
	(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql) >/dev/null 2>&1 ||
		{ echo "pg-start: apt-get install postgresql failed" >&2; exit 1; }
	BIN="$(find_bin)"
fi

# PostgreSQL refuses to run as root: run it as postgres then.
if [ "$(id -u)" = 0 ]; then
	OWNER=postgres
	as_owner() { runuser -u postgres -- "$@"; }
else
	OWNER="$(id -un)"
	as_owner() { "$@"; }
fi

dsn() { echo "postgres://thunderline@127.0.0.1:$(cat "$DIR/port")/thunderline?sslmode=disable"; }

if [ -f "$DIR/port" ] && as_owner "$BIN/pg_ctl" -D "$DIR/data" status >/dev/null 2>&1; then
	dsn; exit 0
fi

fresh=0
if [ ! -f "$DIR/data/PG_VERSION" ]; then
	rm -rf "$DIR"
	mkdir -p "$DIR"
	chown "$OWNER" "$DIR"
	chmod 700 "$DIR"
	as_owner "$BIN/initdb" -D "$DIR/data" -U postgres --auth=trust -E UTF8 --no-sync --locale=C.UTF-8 >"$DIR/initdb.log" 2>&1 ||
		as_owner "$BIN/initdb" -D "$DIR/data" -U postgres --auth=trust -E UTF8 --no-sync --no-locale >"$DIR/initdb.log" 2>&1
	free_port >"$DIR/port"
	fresh=1
fi
# Throwaway cluster: no fsync, small footprint, socket in the cluster dir.
start() {
	PORT="$(cat "$DIR/port")"
	as_owner "$BIN/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w -t 30 start \
		-o "-p $PORT -k $DIR -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=100" >/dev/null
}
# A fresh cluster's port may be taken between free_port and the bind (tests
# start clusters in parallel): pick another and try again.
tries=1
until start; do
	if [ "$fresh" != 1 ] || [ "$tries" -ge 5 ] || ! grep -q "could not create any TCP/IP sockets" "$DIR/server.log"; then
		echo "pg-start: server did not start, see $DIR/server.log" >&2; tail -20 "$DIR/server.log" >&2; exit 1
	fi
	tries=$((tries + 1))
	free_port >"$DIR/port"
done

if [ "$fresh" = 1 ]; then
	as_owner "$BIN/psql" -q -h "$DIR" -p "$PORT" -U postgres -d postgres -v ON_ERROR_STOP=1 >/dev/null <<'SQL'
CREATE ROLE thunderline LOGIN NOSUPERUSER NOBYPASSRLS CREATEDB CREATEROLE;
CREATE ROLE thunderline_system LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
CREATE DATABASE thunderline OWNER thunderline;
SQL
fi
as_owner "$BIN/psql" -q -h "$DIR" -p "$PORT" -U postgres -d postgres -v ON_ERROR_STOP=1 >/dev/null <<'SQL'
ALTER ROLE thunderline CREATEROLE;
DO $$ BEGIN
	IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'thunderline_engine') THEN
		CREATE ROLE thunderline_engine NOLOGIN NOSUPERUSER NOBYPASSRLS;
	END IF;
END $$;
GRANT thunderline_engine TO thunderline WITH ADMIN OPTION;
DO $$ BEGIN
	IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'thunderline_writers') THEN
		CREATE ROLE thunderline_writers NOLOGIN NOSUPERUSER NOBYPASSRLS;
	END IF;
	IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'thunderline_writer') THEN
		CREATE ROLE thunderline_writer LOGIN NOSUPERUSER BYPASSRLS NOCREATEDB NOCREATEROLE IN ROLE thunderline_writers;
	END IF;
END $$;
GRANT thunderline_writers TO thunderline WITH ADMIN OPTION;
GRANT thunderline_writers TO thunderline_writer;
REVOKE thunderline_engine FROM thunderline_writer;
SQL
dsn
