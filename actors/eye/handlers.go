package eye

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/pprof"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"thunderline/hotpath/decide/spec"
)

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	if err := s.b.Live(); err != nil {
		writeError(w, "unavailable", err.Error())
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	if err := s.b.Ready(); err != nil {
		writeError(w, "not_ready", err.Error())
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

func (s *Server) summary(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.b.Summary())
}

func (s *Server) actors(w http.ResponseWriter, r *http.Request) {
	actors := s.b.Actors()
	if actors == nil {
		actors = []Actor{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"actors": actors})
}

// routerView is GET /router as JSON.
type routerView struct {
	Version uint64    `json:"version"`
	Source  string    `json:"source,omitempty"`
	Loaded  time.Time `json:"loaded,omitzero"`
	// Config is the config with its YAML keys (the form PUT /router takes).
	Config any `json:"config"`
}

func (s *Server) router(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodPut {
		s.putRouter(w, r)
		return
	}
	snap := s.b.Router()
	cfg := snap.Config
	cfg.Version = snap.Version
	y, err := yaml.Marshal(&cfg)
	if err != nil {
		writeError(w, "internal", fmt.Sprintf("encode router config: %v", err))
		return
	}
	if wantsYAML(r) {
		w.Header().Set("Content-Type", "application/yaml; charset=utf-8")
		w.Header().Set("X-Router-Version", strconv.FormatUint(snap.Version, 10))
		w.Write(y)
		return
	}
	var m any // the YAML keys, not the Go field names
	if err := yaml.Unmarshal(y, &m); err != nil {
		writeError(w, "internal", fmt.Sprintf("encode router config: %v", err))
		return
	}
	writeJSON(w, http.StatusOK, routerView{Version: snap.Version, Source: snap.Source, Loaded: snap.Loaded, Config: m})
}

// wantsYAML: ?format=yaml, or an Accept header naming YAML.
func wantsYAML(r *http.Request) bool {
	if f := r.URL.Query().Get("format"); f != "" {
		return f == "yaml"
	}
	a := r.Header.Get("Accept")
	return strings.Contains(a, "application/yaml") || strings.Contains(a, "text/yaml") ||
		strings.Contains(a, "application/x-yaml")
}

// putRouter decodes the body strictly (spec.ParseRouter), refuses a
// version that does not rise, and hands the config to the backend.
func (s *Server) putRouter(w http.ResponseWriter, r *http.Request) {
	body, ok := readBody(w, r, s.opts.MaxBodyBytes)
	if !ok {
		return
	}
	if len(bytes.TrimSpace(body)) == 0 {
		writeError(w, "bad_request", "empty body: send a router config (YAML or JSON) with a higher version")
		return
	}
	cfg, err := spec.ParseRouter(body, "request body")
	if err != nil {
		writeBackendError(w, configError(err))
		return
	}
	running := s.b.Router().Version
	if cfg.Version <= running {
		writeBackendError(w, &ConfigError{Field: "router.version",
			Reason: fmt.Sprintf("%d: must be higher than the running version %d", cfg.Version, running)})
		return
	}
	v, err := s.b.ReloadRouter(r.Context(), cfg)
	if err != nil {
		s.log.Warn("router config refused", "version", cfg.Version, "err", err)
		writeBackendError(w, err)
		return
	}
	s.log.Info("router config swapped in via admin HTTP", "version", v, "previous", running)
	writeJSON(w, http.StatusOK, map[string]uint64{"version": v, "previous": running})
}

func (s *Server) experts(w http.ResponseWriter, r *http.Request) {
	layers := s.b.Experts()
	if layers == nil {
		layers = []LayerExperts{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"router_version": s.b.Router().Version, "layers": layers})
}

func (s *Server) expertAction(w http.ResponseWriter, r *http.Request) {
	layer, err := strconv.Atoi(r.PathValue("layer"))
	if err != nil || layer < 0 {
		writeError(w, "bad_request", fmt.Sprintf("layer %q: want a layer number", r.PathValue("layer")))
		return
	}
	name := r.PathValue("name")
	opName := r.PathValue("op")
	if opName == "" { // the literal /retire route
		opName = OpRetire.String()
	}
	op, ok := parseExpertOp(opName)
	if !ok {
		writeError(w, "not_found", fmt.Sprintf("expert action %q: want restart, force, unforce or retire", opName))
		return
	}
	st, err := s.b.ExpertAction(r.Context(), layer, name, op)
	if err != nil {
		writeBackendError(w, err)
		return
	}
	s.log.Info("expert action via admin HTTP", "layer", layer, "expert", name, "action", op.String())
	writeJSON(w, http.StatusOK, st)
}

// expertSwap hot-swaps an expert's model: the body is the expert's new
// spec, as a router config's list entry takes it (JSON), e.g.
// {"kind": "mlp", "weights": "/models/v7.safetensors"}.
func (s *Server) expertSwap(w http.ResponseWriter, r *http.Request) {
	layer, err := strconv.Atoi(r.PathValue("layer"))
	if err != nil || layer < 0 {
		writeError(w, "bad_request", fmt.Sprintf("layer %q: want a layer number", r.PathValue("layer")))
		return
	}
	var body struct {
		Kind     string             `json:"kind"`
		Weights  string             `json:"weights"`
		Prefix   string             `json:"prefix"`
		Hidden   int                `json:"hidden"`
		Seed     uint64             `json:"seed"`
		Params   map[string]float64 `json:"params"`
		Socket   string             `json:"socket"`
		BudgetUs float64            `json:"budget_us"`
	}
	if !decodeBody(w, r, &body) {
		return
	}
	name := r.PathValue("name")
	spec := spec.ExpertSpec{Name: name, Kind: body.Kind, Weights: body.Weights, Prefix: body.Prefix, Hidden: body.Hidden,
		Seed: body.Seed, Params: body.Params, Socket: body.Socket, Budget: spec.Duration(body.BudgetUs * 1e3)}
	v, err := s.b.SwapExpert(r.Context(), layer, name, spec)
	if err != nil {
		writeBackendError(w, err)
		return
	}
	s.log.Info("expert swapped via admin HTTP", "layer", layer, "expert", name, "kind", spec.Kind, "router_version", v)
	writeJSON(w, http.StatusOK, map[string]any{"router_version": v, "layer": layer, "expert": name})
}

func (s *Server) risk(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, riskView(s.b.Risk()))
}

func riskView(st RiskState) RiskState {
	if st.Deny == nil {
		st.Deny = []DenyEntry{}
	}
	return st
}

func (s *Server) riskDeny(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodGet {
		writeJSON(w, http.StatusOK, map[string][]DenyEntry{"deny": riskView(s.b.Risk()).Deny})
		return
	}
	var e DenyEntry
	q := r.URL.Query()
	if r.Method == http.MethodDelete && (q.Has("tenant") || q.Has("symbol")) {
		e = DenyEntry{Tenant: q.Get("tenant"), Symbol: q.Get("symbol")}
	} else if !decodeBody(w, r, &e) {
		return
	}
	if err := validDenyEntry(e); err != nil {
		writeError(w, "bad_request", err.Error())
		return
	}
	deny := r.Method == http.MethodPost
	if err := s.b.SetDeny(r.Context(), e, deny); err != nil {
		writeBackendError(w, err)
		return
	}
	s.log.Warn("risk deny list changed via admin HTTP", "tenant", e.Tenant, "symbol", e.Symbol, "deny", deny)
	writeJSON(w, http.StatusOK, riskView(s.b.Risk()))
}

func validDenyEntry(e DenyEntry) error {
	for _, f := range []struct{ name, v string }{{"tenant", e.Tenant}, {"symbol", e.Symbol}} {
		if f.v == "" {
			return fmt.Errorf("%s: required", f.name)
		}
		if len(f.v) > 128 {
			return fmt.Errorf("%s: %d bytes, at most 128", f.name, len(f.v))
		}
		for _, c := range f.v {
			if c < ' ' || c == 0x7f {
				return fmt.Errorf("%s: control character", f.name)
			}
		}
	}
	return nil
}

func (s *Server) riskHalt(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodGet {
		writeJSON(w, http.StatusOK, map[string]bool{"on": s.b.Risk().HaltAll})
		return
	}
	var req struct {
		On *bool `json:"on"`
	}
	if !decodeBody(w, r, &req) {
		return
	}
	if req.On == nil {
		writeError(w, "bad_request", `on: required ({"on": true} halts everything, {"on": false} resumes)`)
		return
	}
	if err := s.b.HaltAll(r.Context(), *req.On); err != nil {
		writeBackendError(w, err)
		return
	}
	s.log.Warn("risk kill switch via admin HTTP", "halt_all", *req.On)
	writeJSON(w, http.StatusOK, riskView(s.b.Risk()))
}

// stream hands the request to the backend's stream with the token removed
// from its URL, no read or write deadline, and a context that Shutdown
// cancels.
func (s *Server) stream(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodHead { // headers only: a stream has no end to wait for
		w.Header().Set("Content-Type", "text/event-stream; charset=utf-8")
		return
	}
	if !s.slots.take() {
		s.metrics.connRefused("streams")
		writeError(w, "unavailable", fmt.Sprintf("too many streams open (max_streams %d): try again later", s.opts.MaxStreams))
		return
	}
	defer s.slots.give()
	s.metrics.streams.Inc()
	defer s.metrics.streams.Dec()
	rc := http.NewResponseController(w)
	// Errors mean the writer has no deadlines (tests' recorders): fine.
	_ = rc.SetReadDeadline(time.Time{})
	_ = rc.SetWriteDeadline(time.Time{})
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	defer context.AfterFunc(s.streams, cancel)()
	r2 := r.WithContext(ctx)
	u := *r.URL
	q := u.Query()
	q.Del("token")
	u.RawQuery = q.Encode()
	r2.URL = &u
	r2.RequestURI = u.RequestURI()
	r2.Header = r.Header.Clone()
	r2.Header.Del("Authorization")
	s.b.Stream().ServeHTTP(w, r2)
}

// servePprof serves net/http/pprof's handlers under /debug/pprof/.
func servePprof(w http.ResponseWriter, r *http.Request) {
	switch strings.TrimPrefix(r.URL.Path, "/debug/pprof/") {
	case "cmdline":
		pprof.Cmdline(w, r)
	case "profile":
		pprof.Profile(w, r)
	case "symbol":
		pprof.Symbol(w, r)
	case "trace":
		pprof.Trace(w, r)
	default:
		pprof.Index(w, r)
	}
}

// readBody reads a body of at most limit bytes, answering 413 beyond.
func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, bool) {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			writeError(w, "too_large", fmt.Sprintf("body over %d bytes", limit))
		} else {
			writeError(w, "bad_request", fmt.Sprintf("read body: %v", err))
		}
		return nil, false
	}
	return b, true
}

// decodeBody decodes one JSON object strictly (unknown fields are errors).
func decodeBody(w http.ResponseWriter, r *http.Request, v any) bool {
	b, ok := readBody(w, r, smallBodyBytes)
	if !ok {
		return false
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		writeError(w, "bad_request", fmt.Sprintf("body: %v", err))
		return false
	}
	if dec.More() {
		writeError(w, "bad_request", "body: one JSON object expected")
		return false
	}
	return true
}
