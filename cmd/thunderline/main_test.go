package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func cli(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var o, e bytes.Buffer
	code = run(args, &o, &e)
	return code, o.String(), e.String()
}

func TestRunThenVerify(t *testing.T) {
	dir := t.TempDir()
	prof := filepath.Join(dir, "p.yaml")
	os.WriteFile(prof, []byte("feed: {pace: max, synthetic: {max_ticks: 50000, bad_ratio: 0.001}}\njournal: {dir: "+filepath.Join(dir, "j")+", fsync: never}\nadmin: {addr: \"127.0.0.1:0\"}\n"), 0o644)
	code, out, errOut := cli(t, "run", "--profile", prof, "--json")
	if code != 0 {
		t.Fatalf("run exit %d: %s", code, errOut)
	}
	if !strings.Contains(errOut, "admin at http://127.0.0.1:") || !strings.Contains(errOut, "/dashboard#token=thl_") {
		t.Fatalf("run did not print the admin URL and generated token:\n%s", errOut)
	}
	var sum struct {
		Ticks        uint64            `json:"ticks"`
		Rejects      map[string]uint64 `json:"rejects"`
		WindowDigest string            `json:"window_digest"`
		Journal      struct{ Dir string }
	}
	if err := json.Unmarshal([]byte(out), &sum); err != nil {
		t.Fatalf("run --json: %v\n%s", err, out)
	}
	if sum.Ticks != 50000 || sum.Journal.Dir == "" || len(sum.Rejects) == 0 || len(sum.WindowDigest) != 64 {
		t.Fatalf("summary %+v", sum)
	}
	code, out, errOut = cli(t, "replay", sum.Journal.Dir, "--verify", "--partitions", "3")
	if code != 0 || !strings.Contains(out, "verify      OK") || !strings.Contains(out, sum.WindowDigest) {
		t.Fatalf("replay --verify exit %d:\n%s\n%s", code, out, errOut)
	}
}

func TestReplayJSON(t *testing.T) {
	code, out, errOut := cli(t, "replay", "--json", "../../../shared/data/dbn/futures_trades_2024-07-01T23-58_2024-07-02T00-02.dbn.zst")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var sum struct {
		Records map[string]uint64 `json:"records"`
		Ticks   uint64            `json:"ticks"`
		Symbols []struct {
			Symbol string `json:"symbol"`
			Ticks  uint64 `json:"ticks"`
		} `json:"symbols"`
	}
	if err := json.Unmarshal([]byte(out), &sum); err != nil {
		t.Fatal(err)
	}
	if sum.Records["mbp-0"] != 120 || sum.Ticks != 120 || len(sum.Symbols) != 1 || sum.Symbols[0].Ticks != 120 {
		t.Fatalf("%+v", sum)
	}
}

func TestErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("window: {lenght: 1s}\n"), 0o644)
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"frobnicate"}, 2, "unknown command"},
		{[]string{}, 2, "Usage"},
		{[]string{"replay"}, 2, "no input"},
		{[]string{"run", "--profile", bad}, 1, "lenght"},
		{[]string{"run", "--profile", filepath.Join(dir, "missing.yaml")}, 1, "missing.yaml"},
		{[]string{"replay", filepath.Join(dir, "nope.dbn")}, 1, "nope.dbn"},
		{[]string{"replay", "--partitions", "-1", "x.dbn"}, 2, "partitions"},
	} {
		code, _, errOut := cli(t, c.args...)
		if code != c.code || !strings.Contains(errOut, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", c.args, code, errOut, c.code, c.want)
		}
	}
	if code, out, _ := cli(t, "version"); code != 0 || !strings.HasPrefix(out, "thunderline") {
		t.Errorf("version: %d %q", code, out)
	}
}
