package eye

import (
	"encoding/json"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// HubOptions configures a Hub. Zero values are defaults.
type HubOptions struct {
	// Recent is how many decisions a new subscriber is sent first [50].
	Recent int
	// Buffer is how many events wait per subscriber; beyond it, events for
	// that subscriber are dropped and counted [256].
	Buffer int
	// MaxDecisionsPerSec caps decisions published per wall-clock second;
	// the rest are skipped and counted (the dashboard shows a sample, it is
	// not an audit log) [100].
	MaxDecisionsPerSec int
	// Heartbeat is the interval of keep-alive comments [15s].
	Heartbeat time.Duration
	// Retry is the reconnect delay the browser is told [2s].
	Retry time.Duration
}

func (o HubOptions) withDefaults() HubOptions {
	if o.Recent <= 0 {
		o.Recent = 50
	}
	if o.Buffer <= 0 {
		o.Buffer = 256
	}
	if o.MaxDecisionsPerSec <= 0 {
		o.MaxDecisionsPerSec = 100
	}
	if o.Heartbeat <= 0 {
		o.Heartbeat = 15 * time.Second
	}
	if o.Retry <= 0 {
		o.Retry = 2 * time.Second
	}
	return o
}

// Hub is the dashboard's server-sent event stream, ready for a Backend's
// Stream: the engine publishes summaries (about once a second) and
// decisions, and every subscriber gets them as
//
//	id: <sequence>
//	event: summary | decision
//	data: <Summary or Decision as JSON>
//
// A new subscriber first gets the latest summary and the Recent latest
// decisions (those after its Last-Event-ID when it reconnects). Publishing
// never blocks: a subscriber that falls Buffer events behind loses events,
// counted in thunderline_stream_dropped_total. Publish marshals JSON and
// allocates: call it off the hot path (from the trace consumer, not the
// router stage). A Hub is a prometheus.Collector of its own counters.
type Hub struct {
	opts HubOptions
	done chan struct{}
	now  func() time.Time // time.Now; tests fix it

	mu        sync.Mutex
	subs      map[*subscriber]struct{}
	seq       uint64
	recent    []hubEvent // ring of the latest decisions
	recentN   uint64     // decisions written to recent
	summary   hubEvent
	closed    bool
	secStart  time.Time
	secCount  int
	published atomic.Uint64
	dropped   atomic.Uint64
	skipped   atomic.Uint64
	clients   atomic.Int64

	descs [4]*prometheus.Desc
}

type hubEvent struct {
	id    uint64
	frame []byte
}

type subscriber struct{ ch chan []byte }

// NewHub makes a Hub.
func NewHub(opts HubOptions) *Hub {
	opts = opts.withDefaults()
	h := &Hub{opts: opts, done: make(chan struct{}), now: time.Now, subs: map[*subscriber]struct{}{},
		recent: make([]hubEvent, opts.Recent)}
	h.descs = [4]*prometheus.Desc{
		prometheus.NewDesc("thunderline_stream_clients", "Dashboard stream subscribers connected.", nil, nil),
		prometheus.NewDesc("thunderline_stream_events_total", "Events published to the dashboard stream.", nil, nil),
		prometheus.NewDesc("thunderline_stream_dropped_total", "Events a slow stream subscriber did not get.", nil, nil),
		prometheus.NewDesc("thunderline_stream_skipped_total", "Decisions not published: over the per-second cap.", nil, nil),
	}
	return h
}

// PublishSummary sends a summary to every subscriber and keeps it for the
// next ones.
func (h *Hub) PublishSummary(s Summary) { h.publish("summary", s, false) }

// PublishDecision sends a decision to every subscriber (at most
// MaxDecisionsPerSec a second) and keeps the latest Recent ones.
func (h *Hub) PublishDecision(d Decision) {
	if d.RiskFlags == nil {
		d.RiskFlags = []string{}
	}
	if d.Experts == nil {
		d.Experts = []string{}
	}
	h.publish("decision", d, true)
}

func (h *Hub) publish(kind string, v any, decision bool) {
	data, err := json.Marshal(v)
	if err != nil { // our own types: cannot happen short of a NaN
		h.skipped.Add(1)
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return
	}
	if decision {
		now := h.now()
		if now.Sub(h.secStart) >= time.Second {
			h.secStart, h.secCount = now, 0
		}
		if h.secCount >= h.opts.MaxDecisionsPerSec {
			h.skipped.Add(1)
			return
		}
		h.secCount++
	}
	h.seq++
	frame := make([]byte, 0, len(data)+len(kind)+40)
	frame = append(frame, "id: "...)
	frame = strconv.AppendUint(frame, h.seq, 10)
	frame = append(frame, "\nevent: "...)
	frame = append(frame, kind...)
	frame = append(frame, "\ndata: "...)
	frame = append(frame, data...)
	frame = append(frame, "\n\n"...)
	ev := hubEvent{id: h.seq, frame: frame}
	if decision {
		h.recent[h.recentN%uint64(len(h.recent))] = ev
		h.recentN++
	} else {
		h.summary = ev
	}
	h.published.Add(1)
	for s := range h.subs {
		select {
		case s.ch <- frame:
		default:
			h.dropped.Add(1)
		}
	}
}

// Close ends every stream; later ones are refused with 503.
func (h *Hub) Close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.closed {
		h.closed = true
		close(h.done)
	}
}

// Clients is the number of connected subscribers.
func (h *Hub) Clients() int { return int(h.clients.Load()) }

// ServeHTTP streams events until the request's context is done or the Hub
// closes.
func (h *Hub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	last, _ := strconv.ParseUint(r.Header.Get("Last-Event-ID"), 10, 64)
	s := &subscriber{ch: make(chan []byte, h.opts.Buffer)}
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		writeError(w, "unavailable", "the stream is closed")
		return
	}
	first := []byte("retry: " + strconv.FormatInt(h.opts.Retry.Milliseconds(), 10) + "\n\n")
	if h.summary.id > last {
		first = append(first, h.summary.frame...)
	}
	n := uint64(len(h.recent))
	for i := h.recentN - min(h.recentN, n); i < h.recentN; i++ {
		if ev := h.recent[i%n]; ev.id > last {
			first = append(first, ev.frame...)
		}
	}
	h.subs[s] = struct{}{}
	h.clients.Add(1)
	h.mu.Unlock()
	defer func() {
		h.mu.Lock()
		delete(h.subs, s)
		h.mu.Unlock()
		h.clients.Add(-1)
	}()

	rc := http.NewResponseController(w)
	hd := w.Header()
	hd.Set("Content-Type", "text/event-stream; charset=utf-8")
	hd.Set("Cache-Control", "no-store")
	hd.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	if _, err := w.Write(first); err != nil {
		return
	}
	if rc.Flush() != nil {
		return
	}
	beat := time.NewTicker(h.opts.Heartbeat)
	defer beat.Stop()
	ctx := r.Context()
	for {
		var err error
		select {
		case <-ctx.Done():
			return
		case <-h.done:
			return
		case <-beat.C:
			_, err = w.Write([]byte(": ping\n\n"))
		case f := <-s.ch:
			_, err = w.Write(f)
			for more := true; more && err == nil; { // write what is queued, flush once
				select {
				case f = <-s.ch:
					_, err = w.Write(f)
				default:
					more = false
				}
			}
		}
		if err == nil {
			err = rc.Flush()
		}
		if err != nil {
			return
		}
	}
}

// Describe implements prometheus.Collector.
func (h *Hub) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range h.descs {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (h *Hub) Collect(ch chan<- prometheus.Metric) {
	ch <- prometheus.MustNewConstMetric(h.descs[0], prometheus.GaugeValue, float64(h.clients.Load()))
	ch <- prometheus.MustNewConstMetric(h.descs[1], prometheus.CounterValue, float64(h.published.Load()))
	ch <- prometheus.MustNewConstMetric(h.descs[2], prometheus.CounterValue, float64(h.dropped.Load()))
	ch <- prometheus.MustNewConstMetric(h.descs[3], prometheus.CounterValue, float64(h.skipped.Load()))
}
