#!/bin/sh
# make bench: micro-benchmarks (each with its baseline in the same run) and
# the whole-engine harness. Output goes to bench/out/<UTC time>/; copy the
# figures worth keeping into bench/RESULTS.md with the command and machine.
set -eu
cd "$(dirname "$0")/.."
out="bench/out/$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$out"
BENCHTIME="${BENCHTIME:-2s}"
{
	echo "# $(date -u) on $(hostname): $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(go version)"
	go test -run '^$' -bench . -benchmem -benchtime "$BENCHTIME" \
		./hotpath/... ./adapters/dbn/ ./persist/journal/
} 2>&1 | tee "$out/micro.txt"
go run ./bench/harness -records "${RECORDS:-2000000}" -rounds "${ROUNDS:-3}" -out "$out/harness.md" | tee "$out/harness.txt"
echo "results in $out"
