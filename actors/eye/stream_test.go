package eye

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

type sseEvent struct{ id, event, data string }

// sseReader parses a text/event-stream.
type sseReader struct{ r *bufio.Reader }

// next returns the next event with data (retry-only blocks and comments
// are skipped).
func (s *sseReader) next() (sseEvent, error) {
	var ev sseEvent
	for {
		line, err := s.r.ReadString('\n')
		if err != nil {
			return ev, err
		}
		line = strings.TrimSuffix(line, "\n")
		switch {
		case line == "":
			if ev.data != "" {
				return ev, nil
			}
			ev = sseEvent{}
		case strings.HasPrefix(line, ":"):
		case strings.HasPrefix(line, "id: "):
			ev.id = line[4:]
		case strings.HasPrefix(line, "event: "):
			ev.event = line[7:]
		case strings.HasPrefix(line, "data: "):
			ev.data += line[6:]
		}
	}
}

// openStream connects to url with the headers; it fails the test unless
// the answer is a 200 event stream.
func openStream(t *testing.T, ctx context.Context, url string, hdr map[string]string) *sseReader {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, "GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { res.Body.Close() })
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/event-stream") {
		b, _ := io.ReadAll(res.Body)
		t.Fatalf("stream: %d %s", res.StatusCode, b)
	}
	return &sseReader{r: bufio.NewReader(res.Body)}
}

func decision(sym string, i int) Decision {
	return Decision{Time: time.Date(2024, 7, 2, 0, 0, i, 0, time.UTC), Tenant: "default", Symbol: sym, Action: "buy",
		Proposed: "buy", Confidence: 0.7, RouterVersion: 3}
}

func TestHubReplayThenLive(t *testing.T) {
	h := NewHub(HubOptions{Recent: 3})
	ts := httptest.NewServer(h)
	defer ts.Close()
	defer h.Close()
	h.PublishSummary(Summary{TicksPerSec: 42})
	for i := range 5 {
		h.PublishDecision(decision(fmt.Sprintf("S%d", i), i))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s := openStream(t, ctx, ts.URL, nil)
	want := []string{"summary:42", "decision:S2", "decision:S3", "decision:S4"}
	var ids []string
	for _, w := range want {
		ev, err := s.next()
		if err != nil {
			t.Fatal(err)
		}
		var v struct {
			Symbol string  `json:"symbol"`
			Ticks  float64 `json:"ticks_per_s"`
		}
		if err := json.Unmarshal([]byte(ev.data), &v); err != nil {
			t.Fatal(err)
		}
		got := ev.event + ":" + v.Symbol
		if ev.event == "summary" {
			got = fmt.Sprintf("summary:%v", v.Ticks)
		}
		if got != w {
			t.Fatalf("event %q, want %q (%s)", got, w, ev.data)
		}
		ids = append(ids, ev.id)
	}
	if ids[0] != "1" || ids[3] != "6" {
		t.Fatalf("ids %v", ids)
	}
	// Live: the subscriber is registered once its first events arrived.
	h.PublishDecision(decision("LIVE", 9))
	ev, err := s.next()
	if err != nil || ev.event != "decision" || !strings.Contains(ev.data, `"symbol":"LIVE"`) || ev.id != "7" {
		t.Fatalf("live event %+v %v", ev, err)
	}
	if !strings.Contains(ev.data, `"risk_flags":[]`) || !strings.Contains(ev.data, `"experts":[]`) {
		t.Fatalf("nil lists should encode as []: %s", ev.data)
	}
	if h.Clients() != 1 {
		t.Fatalf("clients %d", h.Clients())
	}
}

func TestHubLastEventID(t *testing.T) {
	h := NewHub(HubOptions{})
	ts := httptest.NewServer(h)
	defer ts.Close()
	defer h.Close()
	h.PublishSummary(Summary{}) // id 1
	for i := range 4 {
		h.PublishDecision(decision(fmt.Sprintf("S%d", i), i)) // ids 2-5
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s := openStream(t, ctx, ts.URL, map[string]string{"Last-Event-ID": "4"})
	ev, err := s.next()
	if err != nil || ev.id != "5" || !strings.Contains(ev.data, `"S3"`) {
		t.Fatalf("after Last-Event-ID 4: %+v %v", ev, err)
	}
}

func TestHubDropsForSlowSubscriber(t *testing.T) {
	h := NewHub(HubOptions{})
	slow := &subscriber{ch: make(chan []byte, 2)}
	h.mu.Lock()
	h.subs[slow] = struct{}{}
	h.mu.Unlock()
	for i := range 5 {
		h.PublishDecision(decision("X", i))
	}
	if d := h.dropped.Load(); d != 3 || len(slow.ch) != 2 {
		t.Fatalf("dropped %d queued %d, want 3 and 2", d, len(slow.ch))
	}
}

func TestHubRateCap(t *testing.T) {
	h := NewHub(HubOptions{MaxDecisionsPerSec: 4})
	now := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	h.now = func() time.Time { return now }
	for i := range 10 {
		h.PublishDecision(decision("X", i))
	}
	if p, s := h.published.Load(), h.skipped.Load(); p != 4 || s != 6 {
		t.Fatalf("published %d skipped %d, want 4 and 6", p, s)
	}
	now = now.Add(time.Second)
	h.PublishDecision(decision("Y", 0))
	h.PublishSummary(Summary{}) // summaries are never capped
	if p := h.published.Load(); p != 6 {
		t.Fatalf("published %d after a second, want 6", p)
	}
}

// TestShutdownEndsStreams: Shutdown returns promptly with a stream open,
// and the stream ends.
func TestShutdownEndsStreams(t *testing.T) {
	e := startEnv(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s := openStream(t, ctx, e.url+"/stream", map[string]string{"Authorization": "Bearer " + e.tokens[RoleReadOnly]})
	e.fake.hub.PublishDecision(decision("ESU4", 1))
	if ev, err := s.next(); err != nil || !strings.Contains(ev.data, "ESU4") {
		t.Fatalf("%+v %v", ev, err)
	}
	start := time.Now()
	sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer scancel()
	if err := e.srv.Shutdown(sctx); err != nil {
		t.Fatalf("shutdown with an open stream: %v", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("shutdown took %v", d)
	}
	if _, err := s.next(); err == nil {
		t.Fatal("the stream is still open after Shutdown")
	}
}

func TestStreamHead(t *testing.T) {
	e := startEnv(t, nil)
	if r := e.do("HEAD", "/stream", e.tokens[RoleReadOnly], nil); r.status != 200 {
		t.Fatalf("HEAD /stream: %d", r.status)
	}
}

func TestHubClose(t *testing.T) {
	h := NewHub(HubOptions{})
	ts := httptest.NewServer(h)
	defer ts.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	h.PublishSummary(Summary{})
	s := openStream(t, ctx, ts.URL, nil)
	if _, err := s.next(); err != nil {
		t.Fatal(err)
	}
	h.Close()
	if _, err := s.next(); err == nil {
		t.Fatal("stream open after Close")
	}
	res, err := http.Get(ts.URL)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 503 {
		t.Fatalf("after Close: %d", res.StatusCode)
	}
}
