#!/usr/bin/env bash
# s3-stop.sh [--purge]: stop the server s3-start.sh started in
# $THUNDERLINE_S3_DIR (SIGTERM, then SIGKILL after 10 s); --purge also
# deletes the directory and its buckets. Stopping a stopped server is not an
# error.
set -euo pipefail
DIR="${THUNDERLINE_S3_DIR:?THUNDERLINE_S3_DIR is required}"
if [ -f "$DIR/watchdog.pid" ]; then
	# setsid made the watchdog its group's leader: end the group (bash, tail).
	kill -- "-$(cat "$DIR/watchdog.pid")" 2>/dev/null || true
	rm -f "$DIR/watchdog.pid"
fi
if [ -f "$DIR/pid" ]; then
	PID="$(cat "$DIR/pid")"
	if kill "$PID" 2>/dev/null; then
		for _ in $(seq 1 200); do
			kill -0 "$PID" 2>/dev/null || break
			sleep 0.05
		done
		kill -9 "$PID" 2>/dev/null || true
	fi
	rm -f "$DIR/pid"
fi
if [ "${1:-}" = "--purge" ]; then rm -rf "$DIR"; fi
