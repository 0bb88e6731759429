package eye

import (
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Connection and stream limits: what an unauthenticated client can hold.
//
// connLimiter caps the open admin connections (Options.MaxConns). When a new
// connection would go over the cap, the oldest idle keep-alive connection is
// closed to make room; when none is idle the new one is refused (closed at
// once). Each refusal and eviction is counted
// (thunderline_admin_connections_refused_total, by reason). A flood of
// keep-alive connections thus never takes the process's file descriptors,
// and an operator's request still gets through.
type connLimiter struct {
	net.Listener
	max     int
	metrics *serverMetrics
	mu      sync.Mutex
	conns   map[net.Conn]*connInfo
}

type connInfo struct {
	idle  bool
	since time.Time // when it went idle
}

func newConnLimiter(ln net.Listener, max int, m *serverMetrics) *connLimiter {
	return &connLimiter{Listener: ln, max: max, metrics: m, conns: map[net.Conn]*connInfo{}}
}

// Accept returns the next connection within the cap.
func (l *connLimiter) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if l.admit(c) {
			return c, nil
		}
		c.Close()
	}
}

// admit makes room for c (evicting the oldest idle connection) or refuses it.
func (l *connLimiter) admit(c net.Conn) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.conns) >= l.max {
		var oldest net.Conn
		var at time.Time
		for oc, ci := range l.conns {
			if ci.idle && (oldest == nil || ci.since.Before(at)) {
				oldest, at = oc, ci.since
			}
		}
		if oldest == nil {
			l.metrics.connRefused("busy")
			return false
		}
		oldest.Close()
		delete(l.conns, oldest)
		l.metrics.connRefused("evicted_idle")
	}
	l.conns[c] = &connInfo{}
	l.metrics.conns.Set(float64(len(l.conns)))
	return true
}

// state is the http.Server's ConnState hook: it follows which connections
// are idle and forgets closed ones.
func (l *connLimiter) state(c net.Conn, s http.ConnState) {
	l.mu.Lock()
	defer l.mu.Unlock()
	ci, ok := l.conns[c]
	switch s {
	case http.StateClosed, http.StateHijacked:
		delete(l.conns, c)
	case http.StateIdle:
		if ok {
			ci.idle, ci.since = true, time.Now()
		}
	case http.StateActive:
		if ok {
			ci.idle = false
		}
	}
	l.metrics.conns.Set(float64(len(l.conns)))
}

// hostAllowed reports whether a request's Host header names this server:
// an IP address (a DNS-rebinding page cannot make a browser send one for
// its own origin), "localhost", or a name in Options.AllowedHosts.
func (s *Server) hostAllowed(host string) bool {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if host == "" {
		return false
	}
	if net.ParseIP(host) != nil || strings.EqualFold(host, "localhost") {
		return true
	}
	for _, a := range s.opts.AllowedHosts {
		if strings.EqualFold(host, a) {
			return true
		}
	}
	return false
}

// streamSlots caps the concurrent /stream requests (Options.MaxStreams).
type streamSlots struct {
	n   atomic.Int64
	max int64
}

func (s *streamSlots) take() bool {
	if s.n.Add(1) > s.max {
		s.n.Add(-1)
		return false
	}
	return true
}

func (s *streamSlots) give() { s.n.Add(-1) }
