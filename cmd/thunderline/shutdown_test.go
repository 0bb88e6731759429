package main

import (
	"bufio"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestMain lets a test re-execute this binary as the thunderline command
// (THUNDERLINE_MAIN=1, arguments after "--"), so shutdown is tested on a
// real process receiving a real signal.
func TestMain(m *testing.M) {
	if os.Getenv("THUNDERLINE_MAIN") == "1" {
		args := os.Args[1:]
		for i, a := range args {
			if a == "--" {
				args = args[i+1:]
				break
			}
		}
		os.Exit(run(args, os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// signalAt runs `thunderline run --profile prof extra...` as a real process
// (with env added to this one's), waits on its progress lines until it has
// dispatched at least ticks ticks, sends it sig and returns once it has
// exited: its stdout and how it exited. A process that has not exited
// within limit is killed.
func signalAt(t *testing.T, prof string, ticks uint64, sig os.Signal, limit time.Duration, env []string, extra ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(os.Args[0], append([]string{"-test.run=^$", "--", "run", "--profile", prof}, extra...)...)
	cmd.Env = append(append(os.Environ(), "THUNDERLINE_MAIN=1"), env...)
	stderr, _ := cmd.StderrPipe()
	var stdout strings.Builder
	cmd.Stdout = &stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	killer := time.AfterFunc(limit, func() { cmd.Process.Kill() })
	defer killer.Stop()
	sc := bufio.NewScanner(stderr)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) > 2 && f[1] == "ticks" {
			if n, err := strconv.ParseUint(f[2], 10, 64); err == nil && n >= ticks {
				break
			}
		}
	}
	if err := cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	go func() {
		for sc.Scan() {
		}
	}()
	err := cmd.Wait()
	return stdout.String(), err
}

// TestSIGTERMDuringBurst: SIGTERM while a 10× burst is running drains the
// rings, flushes the journal and exits 0; every record the run acknowledged
// is in the journal, and replaying it with --verify re-derives every hash.
func TestSIGTERMDuringBurst(t *testing.T) {
	dir := t.TempDir()
	prof := filepath.Join(dir, "p.yaml")
	os.WriteFile(prof, []byte(`
feed: {pace: realtime, synthetic: {rate: 100000, burst_every: 1s, burst_length: 600ms, burst_multiplier: 10}}
normalize: {seq: contiguous}
journal: {dir: `+filepath.Join(dir, "j")+`, fsync: interval}
admin: {enabled: false}
progress: {interval: 100ms}
`), 0o644)
	// Event time 0.4 s–1 s of each second is a burst: 40,000 ticks at the
	// base rate, then 1 M/s. Past 60,000 ticks the run is in it.
	out, err := signalAt(t, prof, 60_000, syscall.SIGTERM, 30*time.Second, nil, "--json")
	if err != nil {
		t.Fatalf("exit after SIGTERM: %v\n%s", err, out)
	}
	var sum struct {
		Ticks   uint64 `json:"ticks"`
		Journal struct {
			Dir     string `json:"dir"`
			Records uint64 `json:"records"`
			Acked   uint64 `json:"acked"`
		} `json:"journal"`
		WindowDigest string `json:"window_digest"`
		TraceDigest  string `json:"trace_digest"`
	}
	if err := json.Unmarshal([]byte(out), &sum); err != nil {
		t.Fatalf("summary: %v\n%s", err, out)
	}
	if sum.Ticks < 60_000 || sum.Journal.Acked != sum.Journal.Records || sum.Journal.Records <= sum.Ticks {
		t.Fatalf("after SIGTERM: %d ticks, journal %+v", sum.Ticks, sum.Journal)
	}
	code, out, errOut := cli(t, "replay", "--verify", "--json", sum.Journal.Dir)
	if code != 0 {
		t.Fatalf("replay --verify after SIGTERM: exit %d\n%s\n%s", code, out, errOut)
	}
	var rs struct {
		Ticks        uint64            `json:"ticks"`
		Records      map[string]uint64 `json:"records"`
		WindowDigest string            `json:"window_digest"`
		TraceDigest  string            `json:"trace_digest"`
	}
	json.Unmarshal([]byte(out), &rs)
	var total uint64
	for _, n := range rs.Records {
		total += n
	}
	if rs.Ticks != sum.Ticks || total != sum.Journal.Records || rs.WindowDigest != sum.WindowDigest || rs.TraceDigest != sum.TraceDigest {
		t.Fatalf("journal after SIGTERM: %d ticks, %d records (%v); run said %d ticks, %d records", rs.Ticks, total, rs.Records, sum.Ticks, sum.Journal.Records)
	}
}
