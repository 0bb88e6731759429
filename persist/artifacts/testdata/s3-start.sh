#!/usr/bin/env bash
# s3-start.sh: start a throwaway S3-compatible server (versitygw, an S3
# gateway, with its posix backend) for the persist/artifacts tests and print
#
#   <endpoint host:port> <access key> <secret key> <pid>
#
# on one line of stdout.
#
#   THUNDERLINE_S3_DIR        state directory (default: a new mktemp -d);
#                             holds root/ (the buckets), server.log, pid, port
#   THUNDERLINE_S3_OWNER_PID  when set, the server is stopped and the state
#                             directory deleted when this process exits (a
#                             test binary killed mid-run leaves nothing behind)
#   THUNDERLINE_VERSITYGW     a versitygw binary to use instead of building
#   THUNDERLINE_TOOLS         where versitygw is built (default <repo>/.tools/bin)
#
# versitygw is built from the Go module proxy when missing:
#   GOBIN=$THUNDERLINE_TOOLS go install github.com/versity/versitygw/cmd/versitygw@v1.0.14
# (about a minute on 2 cores with a cold build cache, plus module downloads).
set -euo pipefail
VERSION=v1.0.14
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../../.." && pwd)"
TOOLS="${THUNDERLINE_TOOLS:-$REPO/.tools/bin}"
# shellcheck source=../../internal/testscript/free-port.sh
. "$HERE/../../internal/testscript/free-port.sh"

BIN="${THUNDERLINE_VERSITYGW:-}"
if [ -z "$BIN" ]; then
	BIN="$TOOLS/versitygw"
	mkdir -p "$TOOLS"
	# One build at a time (test binaries start in parallel); a stamp file
	# says which version the binary is, since versitygw built by go install
	# does not know its own version.
	(
		flock 9
		if [ ! -x "$BIN" ] || [ "$(cat "$TOOLS/.versitygw.version" 2>/dev/null)" != "$VERSION" ]; then
			echo "s3-start: building versitygw $VERSION into $TOOLS (takes a minute or more)" >&2
			(cd "$REPO" && GOBIN="$TOOLS" GOFLAGS=-mod=mod go install "github.com/versity/versitygw/cmd/versitygw@$VERSION") >&2 ||
				{ echo "s3-start: go install versitygw@$VERSION failed" >&2; exit 1; }
			echo "$VERSION" >"$TOOLS/.versitygw.version"
		fi
	) 9>"$TOOLS/.versitygw.lock"
fi
[ -x "$BIN" ] || { echo "s3-start: $BIN is not executable" >&2; exit 1; }

DIR="${THUNDERLINE_S3_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/thunderline-s3-XXXXXX")}"
mkdir -p "$DIR/root"
if [ -f "$DIR/pid" ] && kill -0 "$(cat "$DIR/pid")" 2>/dev/null; then
	echo "s3-start: a server is already running in $DIR (pid $(cat "$DIR/pid"))" >&2; exit 1
fi

rand_hex() { head -c "$1" /dev/urandom | od -An -tx1 | tr -d ' \n'; }
ACCESS="tl$(rand_hex 8)"
SECRET="$(rand_hex 20)"

# ready PORT PID: 0 once GET /health answers 200, 1 if the server died,
# 2 after 30 s.
ready() {
	local port=$1 pid=$2 status
	for _ in $(seq 1 600); do
		kill -0 "$pid" 2>/dev/null || return 1
		if { exec 3<>"/dev/tcp/127.0.0.1/$port"; } 2>/dev/null; then
			printf 'GET /health HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&3
			IFS= read -r -t 5 status <&3 || status=""
			exec 3<&- 3>&-
			case "$status" in "HTTP/1."?" 200"*) return 0 ;; esac
		fi
		sleep 0.05
	done
	return 2
}

# A free port may be taken before the server binds it (parallel test
# binaries): pick another and try again.
for try in 1 2 3 4 5; do
	PORT="$(free_port)"
	# Keys through the environment, not argv: ps shows argv to every user.
	# setsid and redirected fds: the server outlives this script and holds
	# none of its pipes (the caller reads stdout to EOF).
	ROOT_ACCESS_KEY_ID="$ACCESS" ROOT_SECRET_ACCESS_KEY="$SECRET" \
		setsid "$BIN" --port "127.0.0.1:$PORT" --health /health --quiet posix "$DIR/root" \
		</dev/null >"$DIR/server.log" 2>&1 &
	PID=$!
	if ready "$PORT" "$PID"; then
		echo "$PID" >"$DIR/pid"
		echo "$PORT" >"$DIR/port"
		if [ -n "${THUNDERLINE_S3_OWNER_PID:-}" ]; then
			# Watchdog: stop the server when its owner exits. s3-stop.sh
			# ends the watchdog's process group first, so it never kills
			# a recycled pid.
			setsid bash -c 'tail --pid="$1" -f /dev/null; kill "$2" 2>/dev/null && tail --pid="$2" -f /dev/null; rm -rf "$3"' _ \
				"$THUNDERLINE_S3_OWNER_PID" "$PID" "$DIR" </dev/null >/dev/null 2>&1 &
			echo "$!" >"$DIR/watchdog.pid"
		fi
		echo "127.0.0.1:$PORT $ACCESS $SECRET $PID"
		exit 0
	fi
	kill "$PID" 2>/dev/null || true
	wait "$PID" 2>/dev/null || true
	if ! grep -qi "address already in use" "$DIR/server.log"; then break; fi
done
echo "s3-start: versitygw did not start, see $DIR/server.log" >&2
tail -20 "$DIR/server.log" >&2
exit 1
