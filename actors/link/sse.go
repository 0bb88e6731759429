package link

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Defaults of SSEOptions.
const (
	DefaultHeartbeat    = 15 * time.Second
	DefaultWriteTimeout = 10 * time.Second
	DefaultMaxReplay    = 1000

	// sseBatch is how many queued events one write (and one flush) takes.
	sseBatch = 64
)

// SSEOptions configure the SSE handler. The zero value means every default.
type SSEOptions struct {
	// Heartbeat is the interval of the ": heartbeat" comment that keeps idle
	// connections (and proxies) alive. 0 means DefaultHeartbeat (15 s).
	Heartbeat time.Duration
	// WriteTimeout bounds each write to the client, where the server supports
	// write deadlines: a client that cannot take a batch within it is
	// disconnected. 0 means DefaultWriteTimeout (10 s).
	WriteTimeout time.Duration
	// MaxReplay bounds the recent events replayed when a stream starts (over
	// all its topics; the newest are kept). 0 means DefaultMaxReplay (1000).
	MaxReplay int
	// Logger receives stream cut-offs. nil means no logging.
	Logger *slog.Logger
}

// Validate reports the first field that is out of range.
func (o SSEOptions) Validate() error {
	if o.Heartbeat < 0 {
		return fmt.Errorf("link: SSEOptions.Heartbeat %v: must be 0 (default %v) or positive", o.Heartbeat, DefaultHeartbeat)
	}
	if o.WriteTimeout < 0 {
		return fmt.Errorf("link: SSEOptions.WriteTimeout %v: must be 0 (default %v) or positive", o.WriteTimeout, DefaultWriteTimeout)
	}
	if o.MaxReplay < 0 || o.MaxReplay > maxRecentLen*16 {
		return fmt.Errorf("link: SSEOptions.MaxReplay %d: must be 0 (default %d) or 1..%d", o.MaxReplay, DefaultMaxReplay, maxRecentLen*16)
	}
	return nil
}

// SSEHandler serves bus as a Server-Sent Events stream with the default
// SSEOptions. See NewSSEHandler.
func SSEHandler(bus *Bus) http.Handler {
	h, _ := NewSSEHandler(bus, SSEOptions{}) // the zero SSEOptions is valid
	return h
}

// Query parameters of the SSE handler.
const (
	paramTopics      = "topics"
	paramLastEventID = "last_event_id"
)

// NewSSEHandler serves bus as a Server-Sent Events stream:
//
//	GET ?topics=decisions,risk,fl.*
//
// Each event is written as "id: <seq>", "event: <topic>" and one "data:" line
// per line of its JSON, then flushed. The stream first replays the retained
// recent events of the requested topics (at most MaxReplay, oldest first).
// With a Last-Event-ID header (or the last_event_id parameter, for clients
// that cannot set headers) it replays only the events after that id; if some
// of those are no longer retained it first sends "event: gap" with
// {"after":<id>,"lost_through":<seq>}. The replay ends with the comment
// ": ok", flushed, so the client knows the stream is open. An id newer than the bus has assigned
// (the process restarted) is treated as absent. A comment heartbeat is sent
// every Heartbeat. The stream ends when the client goes away, or when the
// subscription is cut off or the bus closes: then it writes "event: cutoff"
// with {"reason":"slow_subscriber"|"bus_closed","message":...}.
//
// Errors are JSON {"code","message"}: 400 for an unknown or repeated query
// parameter, missing or invalid topics, or a malformed Last-Event-ID; 405 for
// a method other than GET; 503 when the bus is closed.
func NewSSEHandler(bus *Bus, opts SSEOptions) (http.Handler, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	opts.Heartbeat = cmp.Or(opts.Heartbeat, DefaultHeartbeat)
	opts.WriteTimeout = cmp.Or(opts.WriteTimeout, DefaultWriteTimeout)
	opts.MaxReplay = cmp.Or(opts.MaxReplay, DefaultMaxReplay)
	return &sseHandler{bus: bus, opts: opts}, nil
}

type sseHandler struct {
	bus  *Bus
	opts SSEOptions
}

// sseRequest is a validated stream request.
type sseRequest struct {
	patterns []pattern
	lastID   uint64
	resume   bool // a Last-Event-ID was given
}

// httpError is a request error with its status and JSON code.
type httpError struct {
	status  int
	code    string
	message string
}

func parseSSERequest(r *http.Request) (sseRequest, *httpError) {
	var req sseRequest
	if r.Method != http.MethodGet {
		return req, &httpError{http.StatusMethodNotAllowed, "method_not_allowed", fmt.Sprintf("method %s not allowed; use GET", r.Method)}
	}
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return req, &httpError{http.StatusBadRequest, "bad_query", fmt.Sprintf("malformed query: %v", err)}
	}
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if k != paramTopics && k != paramLastEventID {
			return req, &httpError{http.StatusBadRequest, "unknown_parameter", fmt.Sprintf("unknown query parameter %q; allowed: %s, %s", k, paramTopics, paramLastEventID)}
		}
		if len(q[k]) > 1 {
			return req, &httpError{http.StatusBadRequest, "duplicate_parameter", fmt.Sprintf("query parameter %q given %d times", k, len(q[k]))}
		}
	}
	topics, ok := q[paramTopics]
	if !ok || strings.TrimSpace(topics[0]) == "" {
		return req, &httpError{http.StatusBadRequest, "missing_topics", `query parameter "topics" is required, e.g. topics=decisions,risk,fl.*`}
	}
	req.patterns, err = parseTopicsQuery(topics[0])
	if err != nil {
		return req, &httpError{http.StatusBadRequest, "invalid_topic", err.Error()}
	}
	id := r.Header.Get("Last-Event-ID") // a browser's reconnect wins over the URL
	if id == "" && len(q[paramLastEventID]) > 0 {
		id = q[paramLastEventID][0]
	}
	if id = strings.TrimSpace(id); id != "" {
		req.lastID, err = strconv.ParseUint(id, 10, 64)
		if err != nil {
			return req, &httpError{http.StatusBadRequest, "invalid_last_event_id", fmt.Sprintf("Last-Event-ID %q: not a sequence number", id)}
		}
		req.resume = true
	}
	return req, nil
}

func writeError(w http.ResponseWriter, e *httpError) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if e.status == http.StatusMethodNotAllowed {
		w.Header().Set("Allow", http.MethodGet)
	}
	w.WriteHeader(e.status)
	_ = json.NewEncoder(w).Encode(struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	}{e.code, e.message})
}

func (h *sseHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	req, herr := parseSSERequest(r)
	if herr != nil {
		writeError(w, herr)
		return
	}
	if req.resume && req.lastID > h.bus.lastSeq() {
		// The id comes from an earlier bus (the process restarted, sequence
		// numbers started again): replay what is retained instead of nothing.
		req.resume, req.lastID = false, 0
	}
	sub, rep, err := h.bus.subscribeReplay(req.patterns, req.lastID, h.opts.MaxReplay)
	if err != nil {
		writeError(w, &httpError{http.StatusServiceUnavailable, "bus_closed", err.Error()})
		return
	}
	defer sub.Close()

	hd := w.Header()
	hd.Set("Content-Type", "text/event-stream")
	hd.Set("Cache-Control", "no-cache")
	hd.Set("X-Accel-Buffering", "no") // nginx: do not buffer the stream
	w.WriteHeader(http.StatusOK)

	st := sseStream{w: w, rc: http.NewResponseController(w), timeout: h.opts.WriteTimeout}
	buf := make([]byte, 0, 4096)
	if req.resume && rep.lost > 0 {
		buf = appendGap(buf, req.lastID, rep.lost)
	}
	for i := range rep.events {
		buf = appendEvent(buf, &rep.events[i])
	}
	buf = append(buf, ": ok\n\n"...) // something to flush, so the client sees the stream open
	if err := st.write(buf); err != nil {
		return
	}
	rep.events = nil

	ticker := time.NewTicker(h.opts.Heartbeat)
	defer ticker.Stop()
	ctx := r.Context()
	for {
		buf = buf[:0]
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
			buf = append(buf, ": heartbeat\n\n"...)
		case ev, ok := <-sub.C():
			ended := !ok
			if ok {
				buf, ended = appendBatch(buf, ev, sub)
			}
			if ended {
				h.cutoff(&st, buf, sub.Err(), r)
				return
			}
		}
		if err := st.write(buf); err != nil {
			return
		}
		if cap(buf) > 1<<20 {
			buf = make([]byte, 0, 4096) // do not keep a huge batch's buffer
		}
	}
}

// appendBatch appends ev and then up to sseBatch-1 more events that are
// already queued, without waiting. ended reports that the subscription's
// channel was closed on the way.
func appendBatch(buf []byte, ev Event, sub *Subscription) (_ []byte, ended bool) {
	buf = appendEvent(buf, &ev)
	for range sseBatch - 1 {
		select {
		case ev, ok := <-sub.C():
			if !ok {
				return buf, true
			}
			buf = appendEvent(buf, &ev)
		default:
			return buf, false
		}
	}
	return buf, false
}

// cutoff writes what is in buf and the final cutoff event.
func (h *sseHandler) cutoff(st *sseStream, buf []byte, err error, r *http.Request) {
	reason := Reason(err)
	data, _ := json.Marshal(struct {
		Reason  string `json:"reason"`
		Message string `json:"message"`
	}{reason, fmt.Sprint(err)})
	buf = append(buf, "event: cutoff\ndata: "...)
	buf = append(buf, data...)
	buf = append(buf, "\n\n"...)
	werr := st.write(buf)
	if h.opts.Logger != nil {
		h.opts.Logger.Info("link: SSE stream cut off", "reason", reason, "remote", r.RemoteAddr, "write_error", werr)
	}
}

// sseStream writes batches to the client with a deadline and flushes them.
type sseStream struct {
	w           http.ResponseWriter
	rc          *http.ResponseController
	timeout     time.Duration
	noDeadlines bool
}

func (s *sseStream) write(p []byte) error {
	if !s.noDeadlines {
		if err := s.rc.SetWriteDeadline(time.Now().Add(s.timeout)); errors.Is(err, http.ErrNotSupported) {
			s.noDeadlines = true
		}
	}
	if _, err := s.w.Write(p); err != nil {
		return err
	}
	return s.rc.Flush()
}

// appendEvent appends one SSE frame: id, event (the topic) and the data, one
// "data:" line per line of it (SSE ends a line at "\r\n", "\r" or "\n"), so a
// client's EventSource rebuilds the payload with "\n" line ends.
func appendEvent(buf []byte, ev *Event) []byte {
	buf = append(buf, "id: "...)
	buf = strconv.AppendUint(buf, ev.Seq, 10)
	buf = append(buf, "\nevent: "...)
	buf = append(buf, ev.Topic...)
	buf = append(buf, '\n')
	buf = appendData(buf, ev.Data)
	return append(buf, '\n')
}

func appendData(buf, data []byte) []byte {
	for {
		buf = append(buf, "data: "...)
		i := bytes.IndexAny(data, "\r\n")
		if i < 0 {
			buf = append(buf, data...)
			return append(buf, '\n')
		}
		buf = append(buf, data[:i]...)
		buf = append(buf, '\n')
		if data[i] == '\r' && i+1 < len(data) && data[i+1] == '\n' {
			i++
		}
		data = data[i+1:]
	}
}

func appendGap(buf []byte, after, lost uint64) []byte {
	buf = append(buf, "event: gap\ndata: {\"after\":"...)
	buf = strconv.AppendUint(buf, after, 10)
	buf = append(buf, ",\"lost_through\":"...)
	buf = strconv.AppendUint(buf, lost, 10)
	return append(buf, "}\n\n"...)
}
