package admin

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"thunderline/actors/eye"
	"thunderline/engine"
	"thunderline/persist/journal/smallfs"
)

// TestJournalDiskFull fills the journal's filesystem (a small tmpfs the
// test mounts) under a running engine: /readyz turns 503 naming the
// journal, a journal_down event reaches the risk topic, the metric says
// so, decisions stop (none published while the journal cannot write),
// and when room comes back the run resumes by itself. At the end every
// decision the engine made is in the journal, and the journal replays with
// --verify.
func TestJournalDiskFull(t *testing.T) {
	for _, compressors := range []int{1, 0} { // background writer (the default), inline
		t.Run(fmt.Sprintf("compressors=%d", compressors), func(t *testing.T) { diskFull(t, compressors) })
	}
}

func diskFull(t *testing.T, compressors int) {
	fs := smallfs.Mount(t, 6<<20)
	dir := filepath.Join(fs, "run")
	p, feed := realtimeProfile(t, fmt.Sprintf(`
feed: {pace: realtime, synthetic: {symbols: 8, rate: 40000}}
normalize: {seq: contiguous}
journal: {fsync: never, compression: none, retry_interval: 20ms, min_free_bytes: 3000000, compressors: %d}
`, compressors), dir)
	be := New(p, "synthetic")
	be.Attach()
	risk, err := be.Bus().Subscribe("risk")
	if err != nil {
		t.Fatal(err)
	}
	defer risk.Close()
	decisions, err := be.Bus().Subscribe("decisions")
	if err != nil {
		t.Fatal(err)
	}
	defer decisions.Close()
	var published atomic.Uint64
	go func() {
		for range decisions.C() {
			published.Add(1)
		}
	}()
	events := make(chan string, 64)
	go func() {
		for ev := range risk.C() {
			var m struct {
				Journal *engine.JournalEvent `json:"journal"`
			}
			if json.Unmarshal(ev.Data, &m) == nil && m.Journal != nil {
				events <- m.Journal.Event
			}
		}
	}()
	admin := eye.Token{Value: "admin-token-0123456789", Role: eye.RoleAdmin}
	url := serve(t, be, admin)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	type result struct {
		sum *engine.Summary
		err error
	}
	done := make(chan result, 1)
	go func() {
		s, err := p.Run(ctx, feed)
		done <- result{s, err}
	}()

	get := func(path string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest("GET", url+path, nil)
		req.Header.Set("Authorization", "Bearer "+admin.Value)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	waitFor := func(what string, ok func() bool) {
		t.Helper()
		for deadline := time.Now().Add(60 * time.Second); !ok(); time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s", what)
			}
		}
	}
	waitEvent := func(want string) {
		t.Helper()
		waitFor(want+" event", func() bool {
			select {
			case ev := <-events:
				return ev == want
			default:
				return false
			}
		})
	}
	decided := func() uint64 { return p.Snapshot(time.Now()).Decisions }

	waitFor("readyz 200", func() bool { c, _ := get("/readyz"); return c == 200 })
	waitFor("decisions", func() bool { return decided() > 0 })
	// The disk fills: the watermark warns first, then the journal stops.
	waitEvent("journal_low_space")
	waitFor("readyz 503", func() bool { c, _ := get("/readyz"); return c == 503 })
	if _, body := get("/readyz"); !strings.Contains(body, "journal cannot write") || !strings.Contains(body, "no space left") {
		t.Fatalf("readyz body %q does not say why", body)
	}
	waitEvent("journal_down")
	if _, m := get("/metrics"); !strings.Contains(m, "thunderline_journal_up 0") || !strings.Contains(m, "thunderline_journal_outages_total 1") {
		t.Fatalf("metrics do not show the outage:\n%s", grepLines(m, "thunderline_journal_"))
	}
	// Decisions stop: the pipeline drains what it had read into held
	// memory, then nothing more is decided — and nothing is published.
	var stopped uint64
	waitFor("decisions to stop", func() bool {
		// Still for a second (five looks): on a loaded machine the last
		// windows in flight may take a while to be decided and held.
		stopped = decided()
		for range 5 {
			time.Sleep(200 * time.Millisecond)
			if decided() != stopped {
				return false
			}
		}
		return true
	})
	pub := published.Load()
	time.Sleep(500 * time.Millisecond)
	if d, pb := decided(), published.Load(); d != stopped || pb != pub {
		t.Fatalf("while the journal cannot write: decisions %d → %d, published %d → %d", stopped, d, pub, pb)
	}
	if c, _ := get("/readyz"); c != 503 {
		t.Fatalf("readyz %d while the disk is still full", c)
	}

	// Room again: the engine resumes by itself.
	smallfs.Resize(t, fs, 256<<20)
	waitEvent("journal_up")
	waitFor("readyz 200 again", func() bool { c, _ := get("/readyz"); return c == 200 })
	waitFor("decisions to resume", func() bool { return decided() > stopped+50 })
	cancel()
	r := <-done
	if r.err != nil {
		t.Fatalf("run: %v", r.err)
	}
	// Every decision is in the journal, and the journal verifies.
	sum, err := engine.Replay(context.Background(), []string{dir}, engine.ReplayOptions{Verify: true})
	if err != nil {
		t.Fatalf("replay --verify: %v", err)
	}
	if sum.Records["trace"] != r.sum.Traces || r.sum.Traces != decided() || sum.Cut != nil {
		t.Fatalf("decided %d, run summary %d traces, journal holds %d (cut %+v)", decided(), r.sum.Traces, sum.Records["trace"], sum.Cut)
	}
	if r.sum.Journal.Acked != r.sum.Journal.Records {
		t.Fatalf("journal: %d records, %d acknowledged", r.sum.Journal.Records, r.sum.Journal.Acked)
	}
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
