# Thunderline — make run | test | bench | lint | fmt
GO       ?= go
BIN      := bin/thunderline
ARGS     ?=
FUZZTIME ?= 3s
FUZZLOG := $(or $(TMPDIR),/tmp)/thunderline-fuzz.log
# Release builds on amd64 use the router's AVX2 gate matmul (GOEXPERIMENT=simd;
# the kernel is picked at start-up from the CPU, portable otherwise, same bits
# either way): BenchmarkRoute256x64x16 is 0.56-0.59x the portable time here
# (bench/RESULTS.md).
SIMDENV := $(if $(filter amd64,$(shell $(GO) env GOARCH)),GOEXPERIMENT=simd)
# The CPU's widest vector kernel the tests can require (empty: none).
SIMDCPU := $(shell grep -qw avx2 /proc/cpuinfo 2>/dev/null && echo avx2)
# Every fuzz target: package and function.
FUZZ_TARGETS := \
	./adapters/edgar/edgarrec:FuzzDecodeDoc \
	./adapters/edgar/source:FuzzParseIndex \
	./adapters/edgar/source:FuzzSniff \
	./adapters/edgar/text:FuzzTokens \
	./adapters/edgar/filings:FuzzParse \
	./adapters/federation/lease:FuzzVerify \
	./hotpath/decide:FuzzDecodeShadow \
	./adapters/dbn:FuzzReader \
	./adapters/dbn:FuzzSource \
	./persist/journal:FuzzReader \
	./hotpath/window:FuzzDecodeWindowRecord \
	./hotpath/record:FuzzDecodeTick \
	./engine/config:FuzzParse \
	./adapters/safetensors:FuzzParse \
	./adapters/remoteexpert:FuzzDecodeReply \
	./adapters/remoteexpert:FuzzDecodeEval \
	./hotpath/decide:FuzzDecodeTraceRecord \
	./hotpath/router:FuzzRoute \
	./actors/link:FuzzParseTopics \
	./actors/link:FuzzAppendEvent \
	./adapters/edgar:FuzzParseSGML \
	./adapters/edgar:FuzzParseXBRL \
	./adapters/edgar:FuzzParseInlineXBRL \
	./adapters/edgar:FuzzRecoverInlineXBRL \
	./adapters/edgar:FuzzParseJSON \
	./adapters/edgar:FuzzSectionsAndIndex \
	./persist/postgres:FuzzBatchAdd \
	./persist/postgres:FuzzAppendJSONString \
	./hotpath/ring:FuzzModel \
	./adapters/moldudp64:FuzzParsePacket \
	./adapters/moldudp64:FuzzSession \
	./adapters/moldudp64:FuzzRxStamp \
	./persist/tickarchive:FuzzRead \
	./adapters/dbnlive:FuzzHandshake \
	./adapters/dbnlive:FuzzControlLine \
	./adapters/dbnlive:FuzzServerSubscribe \
	./adapters/soupbintcp:FuzzReadPacket \
	./adapters/soupbintcp:FuzzClient \
	./adapters/itch:FuzzFileReader \
	./adapters/itch:FuzzCaptureReader \
	./adapters/itch:FuzzSource

.PHONY: all build run test deps browser vectors unit flower fuzz-smoke fuzz bench lint fmt clean
PYTHON ?= python3

all: build

build:
	$(SIMDENV) $(GO) build -o $(BIN) ./cmd/thunderline

## run: the engine on its embedded minimal profile (synthetic feed, journal under ./var). ARGS="--for 10s" to bound it.
run: build
	./$(BIN) run $(ARGS)

## test: Python deps, the NumPy reference vectors, vet, every test under the race detector, and a short run of every fuzz target.
test: deps browser vectors unit flower fuzz-smoke

## deps: the pinned Python packages the tests use (requirements.txt).
deps:
	@$(PYTHON) -m pip install --quiet --disable-pip-version-check -r requirements.txt

## browser: Debian's chromium for the dashboard test (installed once if missing).
browser:
	@sh actors/eye/testdata/install-chromium.sh

## vectors: regenerate the router's test vectors with the independent NumPy reference.
vectors: deps
	$(PYTHON) hotpath/router/testdata/reference.py --out hotpath/router/testdata/vectors.json

## flower: the Flower apps' own tests (a real flwr federation over loopback).
flower: deps
	$(PYTHON) -m pytest -q -p no:cacheprovider adapters/flower/tests

unit:
	$(GO) vet ./...
	$(GO) test -race -count=1 -timeout 12m ./...
	$(GO) test -count=1 -run 'TestLadderUnderRealBurst' ./engine/
	# The hot path again without the race detector: there publish is a plain
	# store and Waiter.Wake's fence is what keeps wake-ups (race builds use
	# sequentially consistent atomics and would hide a missing one).
	$(GO) test -count=1 ./hotpath/...
	$(GO) test -count=1 -run 'TestDigestIndependentOfPartitions|TestJournalReplayVerify|TestGoldenDigests|TestPartitionCrashRestarts' ./engine/
	# The release build's SIMD router kernels, bit for bit against the naive
	# loop and the NumPy vectors, and the golden digests through them.
	$(if $(and $(SIMDENV),$(SIMDCPU)),$(SIMDENV) THUNDERLINE_REQUIRE_SIMD=$(SIMDCPU) $(GO) test -count=1 ./hotpath/router/)
	$(if $(and $(SIMDENV),$(SIMDCPU)),$(SIMDENV) $(GO) test -count=1 -run 'TestGoldenDigests|TestDigestIndependentOfPartitions|TestReplayDBNFigures' ./engine/)
	# Allocation tests again without the race detector, which perturbs
	# sync.Pool (some of them only run without it).
	$(GO) test -count=1 -run 'Alloc' ./...
	# Corrupt archive files: parquet-go panics on some (recovered), which
	# the race detector's checkptr makes fatal.
	$(GO) test -count=1 -run 'TestReadCorrupt' ./persist/tickarchive/

fuzz-smoke:
	@missing=$$(grep -rho --include='*_test.go' '^func Fuzz[A-Za-z0-9]*' . | sed 's/^func //' | sort -u | \
		while read fn; do case " $(FUZZ_TARGETS) " in *":$$fn "*) ;; *) echo $$fn;; esac; done); \
	if [ -n "$$missing" ]; then echo "fuzz targets missing from FUZZ_TARGETS: $$missing"; exit 1; fi
	@for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; fn=$${t##*:}; \
		echo "fuzz $$pkg $$fn for $(FUZZTIME)"; \
		ok=; for try in 1 2 3; do \
			$(GO) test -run '^$$' -fuzz "^$$fn$$" -fuzztime $(FUZZTIME) $$pkg > $(FUZZLOG) 2>&1 && { ok=1; cat $(FUZZLOG); break; }; \
			cat $(FUZZLOG); \
			if grep -q 'context deadline exceeded' $(FUZZLOG) && ! grep -q 'Failing input written' $(FUZZLOG); then \
				echo "fuzz $$fn: Go 1.26 coordinator deadline race (go.dev/issue/75804), no failing input; retry $$try"; continue; fi; \
			break; \
		done; \
		rm -f $(FUZZLOG); [ -n "$$ok" ] || exit 1; \
	done

## fuzz: a longer fuzzing session (FUZZTIME=5m make fuzz).
fuzz: FUZZTIME = 60s
fuzz: fuzz-smoke

## bench: micro-benchmarks and the whole-engine harness; results go to bench/out/ (see bench/RESULTS.md).
bench: build
	./bench/run.sh

lint:
	@out=$$(gofmt -l .); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) run honnef.co/go/tools/cmd/staticcheck@v0.7.0 ./...

fmt:
	gofmt -w .

clean:
	rm -rf bin var bench/out
