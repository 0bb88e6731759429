package link

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// newSSEServer serves bus on an httptest.Server with its own client; both are
// closed at cleanup, and the test checks for leaked goroutines.
func newSSEServer(t *testing.T, bus *Bus, opts SSEOptions) (*httptest.Server, *http.Client) {
	t.Helper()
	checkNoLeaks(t)
	h, err := NewSSEHandler(bus, opts)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	tr := &http.Transport{}
	t.Cleanup(func() {
		tr.CloseIdleConnections()
		srv.Close()
	})
	return srv, &http.Client{Transport: tr}
}

func ids(frames []sseFrame) []string {
	var out []string
	for _, f := range frames {
		out = append(out, f.ID)
	}
	return out
}

func seqRange(from, to int) []string {
	var out []string
	for i := from; i <= to; i++ {
		out = append(out, strconv.Itoa(i))
	}
	return out
}

func TestSSEEndToEnd(t *testing.T) {
	bus := New(Options{})
	srv, client := newSSEServer(t, bus, SSEOptions{})
	// Published before the dashboard connects: replayed from Recent.
	bus.Publish("decisions", []byte(`{"action":"buy","i":1}`))
	bus.Publish("feature_windows:market", []byte(`{"w":1}`))
	bus.Publish("risk", []byte(`{"breach":false}`))
	bus.Publish("decisions", []byte("{\n  \"action\": \"hold\"\n}")) // multi-line JSON

	c, disconnect := dial(t, client, srv.URL+"?topics=decisions,risk", nil)
	defer disconnect()
	replay := c.untilOK()
	if got := ids(replay); !slices.Equal(got, []string{"1", "3", "4"}) {
		t.Fatalf("replay ids %v", got)
	}
	if replay[0].Event != "decisions" || replay[0].Data != `{"action":"buy","i":1}` ||
		replay[1].Event != "risk" || replay[1].Data != `{"breach":false}` ||
		replay[2].Data != "{\n  \"action\": \"hold\"\n}" {
		t.Fatalf("replay %+v", replay)
	}

	// Live: every event flushed as it is published, in order, filtered.
	for i := range 50 {
		bus.Publish([]string{"decisions", "risk", "fl.round.completed"}[i%3], payload(i))
	}
	for i := range 50 {
		if i%3 == 2 {
			continue
		}
		f := c.mustNext()
		if f.ID != strconv.Itoa(5+i) || f.Data != string(payload(i)) || f.Event != []string{"decisions", "risk"}[i%3] {
			t.Fatalf("live event %d: %+v", i, f)
		}
		var v struct{ I int }
		if err := json.Unmarshal([]byte(f.Data), &v); err != nil || v.I != i {
			t.Fatalf("data %q: %v", f.Data, err)
		}
	}
	if st := bus.Stats(); st.Subscribers != 1 {
		t.Errorf("stats %v", st)
	}
}

func TestSSEWildcardAndFeatureTopics(t *testing.T) {
	bus := New(Options{})
	srv, client := newSSEServer(t, bus, SSEOptions{})
	c, disconnect := dial(t, client, srv.URL+"?topics="+url.QueryEscape("fl.*,feature_windows:edgar"), nil)
	defer disconnect()
	if r := c.untilOK(); len(r) != 0 {
		t.Fatalf("replay of an empty bus: %+v", r)
	}
	for _, tp := range []string{"fl.round.completed", "feature_windows:market", "feature_windows:edgar", "decisions", "fl.lease.expired"} {
		bus.Publish(tp, []byte(`{}`))
	}
	var got []string
	for range 3 {
		got = append(got, c.mustNext().Event)
	}
	if want := []string{"fl.round.completed", "feature_windows:edgar", "fl.lease.expired"}; !slices.Equal(got, want) {
		t.Errorf("events %q, want %q", got, want)
	}
}

func TestSSELastEventID(t *testing.T) {
	bus := New(Options{RecentLen: 4})
	srv, client := newSSEServer(t, bus, SSEOptions{})
	for i := 1; i <= 10; i++ {
		bus.Publish("decisions", payload(i)) // seq i; the ring keeps 7..10
	}
	f := func(name, query string, hdr map[string]string, wantGap string, wantIDs []string) {
		t.Helper()
		c, disconnect := dial(t, client, srv.URL+"?topics=decisions"+query, hdr)
		defer disconnect()
		frames := c.untilOK()
		gap := ""
		if len(frames) > 0 && frames[0].Event == "gap" {
			gap = frames[0].Data
			frames = frames[1:]
		}
		if gap != wantGap {
			t.Errorf("%s: gap %q, want %q", name, gap, wantGap)
		}
		if got := ids(frames); !slices.Equal(got, wantIDs) {
			t.Errorf("%s: replay ids %v, want %v", name, got, wantIDs)
		}
	}
	f("no id", "", nil, "", seqRange(7, 10))
	f("header", "", map[string]string{"Last-Event-ID": "8"}, "", seqRange(9, 10))
	f("query parameter", "&last_event_id=7", nil, "", seqRange(8, 10))
	f("header wins over the query", "&last_event_id=1", map[string]string{"Last-Event-ID": "9"}, "", seqRange(10, 10))
	f("up to date", "", map[string]string{"Last-Event-ID": "10"}, "", nil)
	f("resume boundary", "", map[string]string{"Last-Event-ID": "6"}, "", seqRange(7, 10))
	f("evicted", "", map[string]string{"Last-Event-ID": "2"}, `{"after":2,"lost_through":6}`, seqRange(7, 10))
	f("from an earlier bus", "", map[string]string{"Last-Event-ID": "999"}, "", seqRange(7, 10))

	// Resuming continues live after the replay, without duplicates.
	c, disconnect := dial(t, client, srv.URL+"?topics=decisions", map[string]string{"Last-Event-ID": "9"})
	defer disconnect()
	if got := ids(c.untilOK()); !slices.Equal(got, []string{"10"}) {
		t.Fatalf("replay %v", got)
	}
	bus.Publish("decisions", payload(11))
	if fr := c.mustNext(); fr.ID != "11" {
		t.Errorf("live %+v", fr)
	}
}

func TestSSEMaxReplay(t *testing.T) {
	bus := New(Options{})
	srv, client := newSSEServer(t, bus, SSEOptions{MaxReplay: 3})
	for i := 1; i <= 10; i++ {
		bus.Publish([]string{"decisions", "risk"}[i%2], payload(i))
	}
	c, disconnect := dial(t, client, srv.URL+"?topics=decisions,risk", nil)
	if got := ids(c.untilOK()); !slices.Equal(got, seqRange(8, 10)) {
		t.Errorf("replay %v, want the newest 3", got)
	}
	disconnect()
	c, disconnect = dial(t, client, srv.URL+"?topics=decisions,risk", map[string]string{"Last-Event-ID": "4"})
	defer disconnect()
	frames := c.untilOK()
	if len(frames) != 4 || frames[0].Event != "gap" || frames[0].Data != `{"after":4,"lost_through":7}` || !slices.Equal(ids(frames[1:]), seqRange(8, 10)) {
		t.Errorf("replay %+v", frames)
	}
}

func TestSSEHeartbeat(t *testing.T) {
	bus := New(Options{})
	srv, client := newSSEServer(t, bus, SSEOptions{Heartbeat: 20 * time.Millisecond})
	c, disconnect := dial(t, client, srv.URL+"?topics=decisions", nil)
	defer disconnect()
	c.untilOK()
	for range 2 {
		f := c.mustNext()
		if !f.isComment() || !slices.Equal(f.Comments, []string{"heartbeat"}) {
			t.Fatalf("frame %+v, want a heartbeat comment", f)
		}
	}
}

func TestSSEBusClosedCutoff(t *testing.T) {
	bus := New(Options{})
	srv, client := newSSEServer(t, bus, SSEOptions{})
	c, disconnect := dial(t, client, srv.URL+"?topics=*", nil)
	defer disconnect()
	c.untilOK()
	bus.Publish("decisions", payload(1))
	bus.Close()
	if f := c.mustNext(); f.ID != "1" {
		t.Fatalf("frame %+v", f)
	}
	f := c.mustNext()
	var v struct{ Reason, Message string }
	if f.Event != "cutoff" || f.HasID || json.Unmarshal([]byte(f.Data), &v) != nil || v.Reason != ReasonBusClosed || v.Message == "" {
		t.Fatalf("frame %+v, want a bus_closed cutoff", f)
	}
	if _, err := c.next(); !errors.Is(err, io.EOF) {
		t.Errorf("after the cutoff: %v, want EOF", err)
	}
	// A new stream on a closed bus is refused.
	resp, err := client.Get(srv.URL + "?topics=decisions")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("status %d", resp.StatusCode)
	}
}

// A client that goes away ends its stream: the subscription is closed and no
// goroutine is left behind (checked by newSSEServer).
func TestSSEClientGoneNoLeak(t *testing.T) {
	bus := New(Options{})
	srv, client := newSSEServer(t, bus, SSEOptions{})
	var cancels []context.CancelFunc
	for range 5 {
		c, disconnect := dial(t, client, srv.URL+"?topics=decisions,fl.*", nil)
		c.untilOK()
		cancels = append(cancels, disconnect)
	}
	bus.Publish("decisions", payload(1))
	if st := bus.Stats(); st.Subscribers != 5 || st.Delivered != 5 {
		t.Fatalf("stats %v", st)
	}
	for _, cancel := range cancels {
		cancel()
	}
	waitFor(t, "streams to end", func() bool { return bus.Stats().Subscribers == 0 })
	if st := bus.Stats(); st.CutOffs != (CutOffs{Closed: 5}) {
		t.Errorf("stats %v", st)
	}
}

func TestSSEBadRequests(t *testing.T) {
	bus := New(Options{})
	srv, client := newSSEServer(t, bus, SSEOptions{})
	f := func(method, query string, hdr map[string]string, status int, code string) {
		t.Helper()
		req, _ := http.NewRequest(method, srv.URL+query, nil)
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var e struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		}
		dec := json.NewDecoder(resp.Body)
		dec.DisallowUnknownFields()
		if err := dec.Decode(&e); err != nil {
			t.Fatalf("%s %q: body: %v", method, query, err)
		}
		if resp.StatusCode != status || e.Code != code || e.Message == "" || resp.Header.Get("Content-Type") != "application/json" {
			t.Errorf("%s %q: %d %+v, want %d %s", method, query, resp.StatusCode, e, status, code)
		}
	}
	f("GET", "?topics=decisions&foo=1", nil, 400, "unknown_parameter")
	f("GET", "?topic=decisions", nil, 400, "unknown_parameter")
	f("GET", "", nil, 400, "missing_topics")
	f("GET", "?topics=", nil, 400, "missing_topics")
	f("GET", "?topics=a,,b", nil, 400, "invalid_topic")
	f("GET", "?topics=a*b", nil, 400, "invalid_topic")
	f("GET", "?topics=a%20b", nil, 400, "invalid_topic")
	f("GET", "?topics=a&topics=b", nil, 400, "duplicate_parameter")
	f("GET", "?topics=%zz", nil, 400, "bad_query")
	f("GET", "?topics=a;b", nil, 400, "bad_query")
	f("GET", "?topics=decisions", map[string]string{"Last-Event-ID": "abc"}, 400, "invalid_last_event_id")
	f("GET", "?topics=decisions&last_event_id=-1", nil, 400, "invalid_last_event_id")
	f("POST", "?topics=decisions", nil, 405, "method_not_allowed")
	if st := bus.Stats(); st.Subscribers != 0 || st.CutOffs != (CutOffs{}) {
		t.Errorf("a refused request subscribed: %v", st)
	}
}

// blockingWriter is a ResponseWriter whose writes block while the gate is
// shut, standing in for a client whose TCP window is full.
type blockingWriter struct {
	hdr     http.Header
	armed   atomic.Bool
	gate    chan struct{} // closed: writes proceed
	blocked chan struct{} // signalled when a write starts waiting
	flushed chan struct{} // signalled after each flush
	mu      sync.Mutex
	buf     bytes.Buffer
}

func (w *blockingWriter) Header() http.Header { return w.hdr }
func (w *blockingWriter) WriteHeader(int)     {}
func (w *blockingWriter) Write(p []byte) (int, error) {
	if w.armed.Load() {
		select {
		case w.blocked <- struct{}{}:
		default:
		}
		<-w.gate
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.Write(p)
}
func (w *blockingWriter) Flush() {
	select {
	case w.flushed <- struct{}{}:
	default:
	}
}

// A stream whose client stops reading is cut off as a slow subscriber
// without slowing the publisher; it delivers what was queued, then a final
// "cutoff" event with the reason.
func TestSSESlowClientCutoff(t *testing.T) {
	checkNoLeaks(t)
	const queue = 8
	bus := New(Options{QueueLen: queue})
	h := SSEHandler(bus)
	w := &blockingWriter{hdr: http.Header{}, gate: make(chan struct{}), blocked: make(chan struct{}, 1), flushed: make(chan struct{}, 1)}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req := httptest.NewRequestWithContext(ctx, http.MethodGet, "/?topics=decisions", nil)
	done := make(chan struct{})
	go func() {
		defer close(done)
		h.ServeHTTP(w, req)
	}()
	wait := func(ch <-chan struct{}, what string) {
		t.Helper()
		select {
		case <-ch:
		case <-time.After(5 * time.Second):
			t.Fatalf("timed out waiting for %s", what)
		}
	}
	wait(w.flushed, "the stream to open") // subscribed and replayed
	w.armed.Store(true)
	bus.Publish("decisions", payload(1))
	wait(w.blocked, "the handler to block writing") // event 1 taken from the queue
	start := time.Now()
	for i := 2; i <= queue+2; i++ { // 2..9 fill the queue, 10 overflows it
		bus.Publish("decisions", payload(i))
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("publishing to a stuck client took %v", d)
	}
	st := bus.Stats()
	if st.CutOffs.SlowSubscriber != 1 || st.Dropped != 1 || st.Subscribers != 0 {
		t.Fatalf("stats %v", st)
	}
	close(w.gate)
	wait(done, "the handler to return")
	w.mu.Lock()
	frames := parseSSE(w.buf.Bytes())
	w.mu.Unlock()
	if len(frames) < 2 {
		t.Fatalf("frames %+v", frames)
	}
	frames = frames[1:] // the ": ok" comment
	last := frames[len(frames)-1]
	var v struct{ Reason string }
	if last.Event != "cutoff" || json.Unmarshal([]byte(last.Data), &v) != nil || v.Reason != ReasonSlowSubscriber {
		t.Fatalf("last frame %+v, want a slow_subscriber cutoff", last)
	}
	if got := ids(frames[:len(frames)-1]); !slices.Equal(got, seqRange(1, queue+1)) {
		t.Errorf("delivered ids %v, want 1..%d", got, queue+1)
	}
}
