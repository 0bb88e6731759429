#!/bin/sh
# make bench: micro-benchmarks (each with its baseline in the same run), the
# router against the NumPy reference, and the whole-engine harness. Output
# goes to bench/out/<UTC time>/; copy the figures worth keeping into
# bench/RESULTS.md with the command and machine.
set -eu
cd "$(dirname "$0")/.."
out="bench/out/$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$out"
BENCHTIME="${BENCHTIME:-2s}"
PYTHON="${PYTHON:-python3}"
{
	echo "# $(date -u) on $(hostname): $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(go version)"
	go test -run '^$' -bench . -benchmem -benchtime "$BENCHTIME" \
		./hotpath/... ./adapters/dbn/ ./adapters/remoteexpert/ ./persist/journal/
} 2>&1 | tee "$out/micro.txt"

# Router: Go (portable, and the AVX path when the toolchain has
# GOEXPERIMENT=simd) against the NumPy reference on the same shapes, now.
go test -run '^$' -bench 'BenchmarkRoute256x64x16$' -benchtime "$BENCHTIME" ./hotpath/router/ | tee "$out/router.txt"
# (a failure of the SIMD build stops the run: it is the release build's kernel)
GOEXPERIMENT=simd go test -run '^$' -bench 'BenchmarkRoute256x64x16$' -benchtime "$BENCHTIME" ./hotpath/router/ > "$out/router-simd.txt"
cat "$out/router-simd.txt"
$PYTHON hotpath/router/testdata/reference.py --bench | tee "$out/router-numpy.json"
$PYTHON - "$out" <<'PY'
import json, re, sys, pathlib
out = pathlib.Path(sys.argv[1])
numpy = json.loads(out.joinpath("router-numpy.json").read_text().strip().splitlines()[-1])["ns_per_token"]
for name in ("router.txt", "router-simd.txt"):
    text = out.joinpath(name).read_text() if out.joinpath(name).exists() else ""
    m = re.search(r"([\d.]+) ns/token", text)
    if m:
        go = float(m.group(1))
        print(f"{name}: Go {go:.0f} ns/token, NumPy {numpy:.0f} ns/token, Go/NumPy time ratio {go/numpy:.2f} ({numpy/go:.1f}x faster)")
PY
# EDGAR: the sample filings through parse → sections → features against a
# standard-library tokenizer floor on the same bytes, the engine's ingest of
# the sample directory, and the largest sample's peak memory.
go test -run '^$' -bench 'Samples' -benchmem -count 3 -benchtime 5x ./adapters/edgar/filings/ | tee "$out/edgar.txt"
go test -run '^$' -bench . -benchmem -benchtime "$BENCHTIME" ./adapters/edgar/text/ | tee -a "$out/edgar.txt"
for p in 1 2; do bin/thunderline edgar ingest --no-journal --partitions $p ../shared/data/edgar | head -1; done | tee -a "$out/edgar.txt"
bin/thunderline edgar parse --mem ../shared/data/edgar/html/Apple.10-K.html | tail -1 | tee -a "$out/edgar.txt"
# Shipper vs a plain CopyFrom of the same rows, on a throwaway cluster.
go test -run '^$' -bench ShipperVsCopy -benchtime 5x ./persist/postgres/ 2>&1 | tee "$out/postgres.txt"
go run ./bench/harness -records "${RECORDS:-2000000}" -rounds "${ROUNDS:-3}" -svg-dir "$out" -out "$out/harness.md" | tee "$out/harness.txt"
echo "results in $out"
