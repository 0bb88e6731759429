package eye

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Server is the admin HTTP server: health, actor tree, router config,
// experts, risk kill switch, metrics, the dashboard and its stream.
type Server struct {
	opts    Options
	b       Backend
	log     *slog.Logger
	auth    *authenticator
	mux     *http.ServeMux
	metrics *serverMetrics
	authLog rateLimitedLog

	// streams is cancelled on Shutdown: it ends the /stream requests.
	streams context.Context
	cancel  context.CancelFunc

	slots streamSlots

	mu       sync.Mutex
	srv      *http.Server
	ln       net.Listener
	done     chan struct{} // closed when Serve returns
	shutdown bool
}

// route is one admin endpoint: its pattern (a ServeMux pattern without a
// method), the minimum role per method, and the handler.
type route struct {
	pattern string
	name    string          // the metrics label
	methods map[string]Role // roleNone: public
	// queryToken accepts ?token= (only /stream: EventSource cannot send
	// headers).
	queryToken bool
	handle     http.HandlerFunc
}

// New makes a Server. It refuses a non-loopback Addr unless
// opts.AllowRemote, and an empty opts.Tokens. logger may be nil; the server
// never logs a token, a query string or an Authorization header.
func New(opts Options, b Backend, logger *slog.Logger) (*Server, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	if b == nil {
		return nil, errors.New("eye: nil Backend")
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	opts = opts.withDefaults()
	s := &Server{opts: opts, b: b, log: logger.With("component", "eye"), auth: newAuthenticator(opts.Tokens),
		mux: http.NewServeMux(), metrics: newServerMetrics()}
	s.authLog.every = 10 * time.Second
	s.slots.max = int64(opts.MaxStreams)
	s.streams, s.cancel = context.WithCancel(context.Background())
	if opts.Registerer != nil {
		if err := s.metrics.register(opts.Registerer); err != nil {
			return nil, fmt.Errorf("eye: register metrics: %w", err)
		}
	}
	for _, rt := range append(s.routes(), s.federationRoutes()...) {
		s.mux.Handle(rt.pattern, s.wrap(rt))
	}
	s.mux.Handle("/", s.wrap(route{pattern: "/", name: "unknown", handle: func(w http.ResponseWriter, r *http.Request) {
		writeError(w, "not_found", "no such endpoint: "+r.URL.Path)
	}}))
	return s, nil
}

func get(role Role) map[string]Role { return map[string]Role{http.MethodGet: role} }

func (s *Server) routes() []route {
	const (
		pub = roleNone
		ro  = RoleReadOnly
		op  = RoleOperator
		adm = RoleAdmin
	)
	return []route{
		{pattern: "/{$}", name: "root", methods: get(pub), handle: func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "/dashboard", http.StatusFound)
		}},
		{pattern: "/healthz", name: "healthz", methods: get(pub), handle: s.healthz},
		{pattern: "/readyz", name: "readyz", methods: get(pub), handle: s.readyz},
		{pattern: "/dashboard", name: "dashboard", methods: get(pub), handle: serveDashboard},
		{pattern: "/summary", name: "summary", methods: get(ro), handle: s.summary},
		{pattern: "/actors", name: "actors", methods: get(ro), handle: s.actors},
		{pattern: "/router", name: "router", methods: map[string]Role{http.MethodGet: ro, http.MethodPut: adm}, handle: s.router},
		{pattern: "/experts", name: "experts", methods: get(ro), handle: s.experts},
		{pattern: "/experts/{layer}/{name}/{op}", name: "expert_action", methods: map[string]Role{http.MethodPost: op}, handle: s.expertAction},
		{pattern: "/experts/{layer}/{name}/retire", name: "expert_retire", methods: map[string]Role{http.MethodPost: adm}, handle: s.expertAction},
		{pattern: "/experts/{layer}/{name}/swap", name: "expert_swap", methods: map[string]Role{http.MethodPost: adm}, handle: s.expertSwap},
		{pattern: "/risk", name: "risk", methods: get(ro), handle: s.risk},
		{pattern: "/risk/deny", name: "risk_deny", methods: map[string]Role{http.MethodGet: ro, http.MethodPost: op, http.MethodDelete: op}, handle: s.riskDeny},
		{pattern: "/risk/halt", name: "risk_halt", methods: map[string]Role{http.MethodGet: ro, http.MethodPost: op}, handle: s.riskHalt},
		{pattern: "/metrics", name: "metrics", methods: get(ro), handle: func(w http.ResponseWriter, r *http.Request) { s.b.Metrics().ServeHTTP(w, r) }},
		{pattern: "/stream", name: "stream", methods: get(ro), queryToken: true, handle: s.stream},
		{pattern: "/debug/pprof/", name: "pprof", methods: map[string]Role{http.MethodGet: adm, http.MethodPost: adm}, handle: servePprof},
	}
}

// wrap applies, in order: security headers, authentication (401), the
// method check (405 with Allow), the role check (403), then the handler.
func (s *Server) wrap(rt route) http.Handler {
	allow := make([]string, 0, len(rt.methods)+1)
	for m := range rt.methods {
		allow = append(allow, m)
	}
	if _, ok := rt.methods[http.MethodGet]; ok {
		allow = append(allow, http.MethodHead)
	}
	slices.Sort(allow)
	allowed := strings.Join(allow, ", ")
	public := true
	for _, role := range rt.methods {
		public = public && role == roleNone
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		role := roleNone
		defer func() {
			s.metrics.request(rt.name, sw.status)
			// Never the query string (/stream?token=) nor headers.
			s.log.Debug("request", "method", r.Method, "route", rt.name, "path", r.URL.Path,
				"status", sw.status, "role", role.String(), "duration", time.Since(start))
		}()
		h := sw.Header()
		h.Set("Cache-Control", "no-store")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		if !s.hostAllowed(r.Host) {
			s.metrics.connRefused("host")
			writeError(sw, "misdirected", "Host "+strconv.Quote(r.Host)+" is not this server (an IP address, localhost, or Options.AllowedHosts)")
			return
		}
		if !public {
			role = s.authenticate(r, rt)
			if role == roleNone {
				h.Set("WWW-Authenticate", `Bearer realm="thunderline"`)
				writeError(sw, "unauthorized", "missing or invalid bearer token (Authorization: Bearer <token>)")
				return
			}
		}
		method := r.Method
		if method == http.MethodHead {
			method = http.MethodGet
		}
		need, ok := rt.methods[method]
		if rt.methods == nil { // the catch-all 404
			ok, need = true, roleNone
		}
		if !ok {
			h.Set("Allow", allowed)
			writeError(sw, "method_not_allowed", r.Method+" is not allowed here; allowed: "+allowed)
			return
		}
		if role < need {
			writeError(sw, "forbidden", fmt.Sprintf("%s %s needs the %s role; this token is %s", r.Method, r.URL.Path, need, role))
			return
		}
		rt.handle(sw, r)
	})
}

// authenticate returns the role of the request's bearer token, or roleNone.
// The ?token= parameter is read only on routes with queryToken.
func (s *Server) authenticate(r *http.Request, rt route) Role {
	tok, ok := bearer(r)
	if !ok && rt.queryToken {
		tok = r.URL.Query().Get("token")
		ok = tok != ""
	}
	reason := "missing"
	if ok {
		if role := s.auth.role(tok); role != roleNone {
			return role
		}
		reason = "invalid"
	}
	s.metrics.authFailure(reason)
	if n, ok := s.authLog.allow(time.Now()); ok {
		s.log.Warn("admin request refused: bad bearer token", "reason", reason, "route", rt.name,
			"remote", r.RemoteAddr, "refused_since_last_log", n)
	}
	return roleNone
}

// Start listens on Options.Addr and serves in the background. It returns
// the base URL ("http://127.0.0.1:8470").
func (s *Server) Start() (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.srv != nil || s.shutdown {
		return "", errors.New("eye: server already started")
	}
	ln, err := net.Listen("tcp", s.opts.Addr)
	if err != nil {
		return "", fmt.Errorf("eye: listen on %s: %w", s.opts.Addr, err)
	}
	addr := ln.Addr().(*net.TCPAddr)
	if !s.opts.AllowRemote && !addr.IP.IsLoopback() {
		ln.Close()
		return "", fmt.Errorf("eye: Options.Addr %q resolved to %s, not a loopback address; set Options.AllowRemote to listen beyond this machine", s.opts.Addr, addr)
	}
	if !addr.IP.IsLoopback() {
		s.log.Warn("admin HTTP listens beyond loopback over plain HTTP: bearer tokens cross the network in clear", "addr", addr.String())
	}
	lim := newConnLimiter(ln, s.opts.MaxConns, s.metrics)
	srv := &http.Server{
		Handler:           s.mux,
		ConnState:         lim.state,
		ReadHeaderTimeout: s.opts.ReadHeaderTimeout,
		ReadTimeout:       s.opts.ReadTimeout,
		WriteTimeout:      s.opts.WriteTimeout,
		IdleTimeout:       s.opts.IdleTimeout,
		MaxHeaderBytes:    32 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	// Shutdown waits for connections to go idle, which a stream never does:
	// cancelling streams ends them (see stream).
	srv.RegisterOnShutdown(s.cancel)
	s.srv, s.ln, s.done = srv, ln, make(chan struct{})
	go func() {
		defer close(s.done)
		if err := srv.Serve(lim); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("admin HTTP server stopped", "err", err)
		}
	}()
	url := "http://" + addr.String()
	s.log.Info("admin HTTP listening", "url", url, "dashboard", url+"/dashboard")
	return url, nil
}

// Shutdown stops accepting requests, ends the streams and waits for
// requests in flight until ctx is done.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	srv, done, again := s.srv, s.done, s.shutdown
	s.shutdown = true
	s.mu.Unlock()
	s.cancel()
	if srv == nil {
		return nil
	}
	if again {
		select {
		case <-done:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	err := srv.Shutdown(ctx)
	if err != nil {
		srv.Close()
	}
	select {
	case <-done:
	case <-ctx.Done():
	}
	return err
}

// Handler is the server's handler, for tests and for embedding in another
// server.
func (s *Server) Handler() http.Handler { return s.mux }

// statusWriter records the status for the access log and metrics, and
// passes Flush and the ResponseController methods through (Unwrap).
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Flush() { _ = w.FlushError() }

// FlushError is what http.ResponseController.Flush calls: it reports a
// client that went away.
func (w *statusWriter) FlushError() error {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return http.NewResponseController(w.ResponseWriter).Flush()
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// rateLimitedLog lets one message through per period and counts the rest.
type rateLimitedLog struct {
	mu         sync.Mutex
	every      time.Duration
	last       time.Time
	suppressed uint64
}

func (l *rateLimitedLog) allow(now time.Time) (suppressed uint64, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.last.IsZero() && now.Sub(l.last) < l.every {
		l.suppressed++
		return 0, false
	}
	n := l.suppressed
	l.last, l.suppressed = now, 0
	return n, true
}
