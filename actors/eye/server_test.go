package eye

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// TestAuthMatrix sends every route without a token, with a wrong token and
// with each role's token, and checks 401 / 403 / success.
func TestAuthMatrix(t *testing.T) {
	e := startEnv(t, nil)
	next := uint64(3)
	routerBody := func() []byte {
		next++
		return fmt.Appendf(nil, "version: %d\nlayers:\n  - experts: 4\n    capacity_factor: 2\n    p: 0.6\n    max_experts_per_token: 3\n", next)
	}
	deny := []byte(`{"tenant":"default","symbol":"ESU4"}`)
	cases := []struct {
		method, path string
		body         func() []byte
		need         Role // roleNone: public
		ok           int
	}{
		{"GET", "/healthz", nil, roleNone, 200},
		{"GET", "/readyz", nil, roleNone, 200},
		{"GET", "/dashboard", nil, roleNone, 200},
		{"GET", "/summary", nil, RoleReadOnly, 200},
		{"GET", "/actors", nil, RoleReadOnly, 200},
		{"GET", "/router", nil, RoleReadOnly, 200},
		{"PUT", "/router", routerBody, RoleAdmin, 200},
		{"GET", "/experts", nil, RoleReadOnly, 200},
		{"POST", "/experts/0/momentum/restart", nil, RoleOperator, 200},
		{"POST", "/experts/0/order_flow/force", nil, RoleOperator, 200},
		{"POST", "/experts/0/order_flow/unforce", nil, RoleOperator, 200},
		{"POST", "/experts/0/mlp_head/retire", nil, RoleAdmin, 200},
		{"GET", "/risk", nil, RoleReadOnly, 200},
		{"GET", "/risk/deny", nil, RoleReadOnly, 200},
		{"POST", "/risk/deny", func() []byte { return deny }, RoleOperator, 200},
		{"DELETE", "/risk/deny", func() []byte { // present again for each role that may remove it
			e.fake.SetDeny(context.Background(), DenyEntry{Tenant: "default", Symbol: "ESU4"}, true)
			return deny
		}, RoleOperator, 200},
		{"GET", "/risk/halt", nil, RoleReadOnly, 200},
		{"POST", "/risk/halt", func() []byte { return []byte(`{"on": false}`) }, RoleOperator, 200},
		{"GET", "/metrics", nil, RoleReadOnly, 200},
		{"GET", "/stream", nil, RoleReadOnly, 200},
		{"GET", "/debug/pprof/", nil, RoleAdmin, 200},
		{"GET", "/debug/pprof/cmdline", nil, RoleAdmin, 200},
		{"GET", "/debug/pprof/heap?debug=1", nil, RoleAdmin, 200},
	}
	for _, c := range cases {
		name := c.method + " " + c.path
		body := func() []byte {
			if c.body == nil {
				return nil
			}
			return c.body()
		}
		if c.need == roleNone {
			if r := e.do(c.method, c.path, "", nil); r.status != c.ok {
				t.Errorf("%s without a token: status %d, want %d", name, r.status, c.ok)
			}
			continue
		}
		for _, tok := range []string{"", wrongToken} {
			r := e.do(c.method, c.path, tok, body())
			checkError(t, name+" token "+fmt.Sprintf("%q", tok), r, 401, "unauthorized")
			if got := r.header.Get("WWW-Authenticate"); !strings.HasPrefix(got, "Bearer") {
				t.Errorf("%s: WWW-Authenticate %q, want Bearer", name, got)
			}
		}
		for _, role := range []Role{RoleReadOnly, RoleOperator, RoleAdmin} {
			r := e.do(c.method, c.path, e.tokens[role], body())
			if role < c.need {
				ae := checkError(t, name+" as "+role.String(), r, 403, "forbidden")
				if !strings.Contains(ae.Message, c.need.String()) {
					t.Errorf("%s as %s: message %q does not name the role needed", name, role, ae.Message)
				}
				continue
			}
			if r.status != c.ok {
				t.Errorf("%s as %s: status %d, want %d (body %s)", name, role, r.status, c.ok, r.body)
			}
		}
	}
}

func TestMethodNotAllowed(t *testing.T) {
	e := startEnv(t, nil)
	// The token is checked first: no token is 401 whatever the method.
	checkError(t, "DELETE /router without token", e.do("DELETE", "/router", "", nil), 401, "unauthorized")
	r := e.do("DELETE", "/router", e.tokens[RoleAdmin], nil)
	checkError(t, "DELETE /router", r, 405, "method_not_allowed")
	if got := r.header.Get("Allow"); got != "GET, HEAD, PUT" {
		t.Errorf("Allow %q, want %q", got, "GET, HEAD, PUT")
	}
	r = e.do("GET", "/experts/0/momentum/restart", e.tokens[RoleAdmin], nil)
	checkError(t, "GET restart", r, 405, "method_not_allowed")
	if got := r.header.Get("Allow"); got != "POST" {
		t.Errorf("Allow %q, want POST", got)
	}
	checkError(t, "POST /healthz", e.do("POST", "/healthz", "", nil), 405, "method_not_allowed")
}

func TestErrorShapes(t *testing.T) {
	e := startEnv(t, nil)
	adm := e.tokens[RoleAdmin]
	checkError(t, "unknown path", e.do("GET", "/nope", "", nil), 404, "not_found")
	checkError(t, "unknown expert", e.do("POST", "/experts/0/nobody/force", adm, nil), 404, "not_found")
	checkError(t, "unknown layer", e.do("POST", "/experts/7/momentum/force", adm, nil), 404, "not_found")
	checkError(t, "unknown action", e.do("POST", "/experts/0/momentum/explode", adm, nil), 404, "not_found")
	checkError(t, "bad layer", e.do("POST", "/experts/x/momentum/force", adm, nil), 400, "bad_request")
}

func TestErrorShapesBadBodies(t *testing.T) {
	e := startEnv(t, nil)
	op := e.tokens[RoleOperator]
	for _, c := range []struct {
		method, path, body string
		status             int
		code               string
	}{
		{"POST", "/risk/deny", `{"tenant":"default"}`, 400, "bad_request"},
		{"POST", "/risk/deny", `{"tenant":"default","symbol":"ES","extra":1}`, 400, "bad_request"},
		{"POST", "/risk/deny", `not json`, 400, "bad_request"},
		{"POST", "/risk/deny", `{"tenant":"a","symbol":"b"} {"tenant":"c","symbol":"d"}`, 400, "bad_request"},
		{"DELETE", "/risk/deny?tenant=default&symbol=NOPE", ``, 404, "not_found"},
		{"POST", "/risk/halt", `{}`, 400, "bad_request"},
		{"POST", "/risk/halt", `{"on":"yes"}`, 400, "bad_request"},
		{"PUT", "/router", ``, 400, "bad_request"},
	} {
		tok := op
		if c.method == "PUT" {
			tok = e.tokens[RoleAdmin]
		}
		checkError(t, c.method+" "+c.path+" "+c.body, e.do(c.method, c.path, tok, []byte(c.body)), c.status, c.code)
	}
	// A retired expert cannot be unforced: 409 from the backend.
	adm := e.tokens[RoleAdmin]
	if r := e.do("POST", "/experts/0/mlp_head/retire", adm, nil); r.status != 200 {
		t.Fatalf("retire: %d %s", r.status, r.body)
	}
	checkError(t, "unforce retired", e.do("POST", "/experts/0/mlp_head/unforce", adm, nil), 409, "conflict")
}

func TestReadyz(t *testing.T) {
	e := startEnv(t, nil)
	e.fake.mu.Lock()
	e.fake.ready = fmt.Errorf("journal recovery in progress")
	e.fake.mu.Unlock()
	ae := checkError(t, "readyz", e.do("GET", "/readyz", "", nil), 503, "not_ready")
	if !strings.Contains(ae.Message, "journal recovery") {
		t.Errorf("readyz message %q", ae.Message)
	}
	if r := e.do("GET", "/healthz", "", nil); r.status != 200 || !bytes.Contains(r.body, []byte(`"ok"`)) {
		t.Errorf("healthz: %d %s", r.status, r.body)
	}
}

func (e *testEnv) routerVersion() uint64 {
	e.t.Helper()
	r := e.do("GET", "/router", e.tokens[RoleReadOnly], nil)
	var v struct {
		Version uint64         `json:"version"`
		Config  map[string]any `json:"config"`
	}
	if err := json.Unmarshal(r.body, &v); err != nil || r.status != 200 {
		e.t.Fatalf("GET /router: %d %s %v", r.status, r.body, err)
	}
	if v.Config["layers"] == nil || v.Config["embed_dim"] == nil {
		e.t.Fatalf("GET /router config lacks YAML keys: %s", r.body)
	}
	return v.Version
}

// TestRouterPutInvalid: every invalid config is a 422 naming the field, and
// the running version stays.
func TestRouterPutInvalid(t *testing.T) {
	e := startEnv(t, nil)
	adm := e.tokens[RoleAdmin]
	if v := e.routerVersion(); v != 3 {
		t.Fatalf("version %d, want 3", v)
	}
	for _, c := range []struct{ body, field, inMessage string }{
		{"version: 4\nlayers:\n  - experts: 4\n    capacity_factor: 2\n    p: 1.5\n", "router.layers[0].p", "(0, 1]"},
		{"version: 4\nbogus: 1\n", "router.bogus", "line 2: unknown key, not found among"},
		{"version: 4\nlayers:\n  - experts: 4\n    capacity_factor: 2\n    p: 0.5\n    list:\n      - {name: x, kind: mlp, bias: 1}\n",
			"router.layers[0].list[0].bias", "line 7: unknown key"},
		{"version: 4\nlayers:\n  - experts: many\n", "router.layers[0].experts", `line 3: "many": want an integer`},
		{"version: 4\nlayers:\n  - experts: 4\n    capacity_factor: 2\n    p: 0.5\n    list:\n      - {name: x, kind: laser}\n", "router.layers[0].list[0].kind", "laser"},
		{"version: 4\nembed_dim: 0\nmax_batch: 70000\n", "router.max_batch", "65535"},
		{"version: 2\n", "router.version", "higher than the running version 3"},
		{"layers: []\n", "router.version", "running version 3"},                          // no version: 1 by default
		{"version: 4\nweights: missing.safetensors\n", "router.weights", "no such file"}, // refused by the backend
	} {
		r := e.do("PUT", "/router", adm, []byte(c.body))
		ae := checkError(t, "PUT "+c.body, r, 422, "invalid_config")
		if ae.Field != c.field || !strings.Contains(ae.Message, c.inMessage) {
			t.Errorf("PUT %q: field %q message %q; want field %q and %q in the message", c.body, ae.Field, ae.Message, c.field, c.inMessage)
		}
		if v := e.routerVersion(); v != 3 {
			t.Fatalf("after refused PUT %q: version %d, want 3", c.body, v)
		}
	}
	checkError(t, "syntax error", e.do("PUT", "/router", adm, []byte("version: [4\n")), 422, "invalid_config")
	e.fake.mu.Lock()
	reloads := e.fake.reloads
	e.fake.mu.Unlock()
	if reloads != 0 {
		t.Fatalf("backend reloaded %d times", reloads)
	}
}

// TestRouterRoundTrip: GET ?format=yaml, raise the version, PUT it back.
func TestRouterRoundTrip(t *testing.T) {
	e := startEnv(t, nil)
	r := e.do("GET", "/router?format=yaml", e.tokens[RoleReadOnly], nil)
	if r.status != 200 || !strings.HasPrefix(r.header.Get("Content-Type"), "application/yaml") || r.header.Get("X-Router-Version") != "3" {
		t.Fatalf("GET yaml: %d %v %s", r.status, r.header, r.body)
	}
	y := strings.Replace(string(r.body), "version: 3", "version: 9", 1)
	if y == string(r.body) {
		t.Fatalf("no version in %s", r.body)
	}
	r = e.do("PUT", "/router", e.tokens[RoleAdmin], []byte(y))
	if r.status != 200 || !bytes.Contains(r.body, []byte(`"version":9`)) || !bytes.Contains(r.body, []byte(`"previous":3`)) {
		t.Fatalf("PUT: %d %s", r.status, r.body)
	}
	if v := e.routerVersion(); v != 9 {
		t.Fatalf("version %d, want 9", v)
	}
	// JSON is YAML too.
	r = e.do("PUT", "/router", e.tokens[RoleAdmin], []byte(`{"version": 10, "layers": [{"experts": 2, "capacity_factor": 1.5, "p": 0.7}]}`))
	if r.status != 200 || e.routerVersion() != 10 {
		t.Fatalf("PUT JSON: %d %s", r.status, r.body)
	}
}

func TestBodyLimits(t *testing.T) {
	e := startEnv(t, func(o *Options) { o.MaxBodyBytes = 4096 })
	big := "version: 4\n" + strings.Repeat("# padding\n", 500)
	checkError(t, "PUT /router 5 KB", e.do("PUT", "/router", e.tokens[RoleAdmin], []byte(big)), 413, "too_large")
	if v := e.routerVersion(); v != 3 {
		t.Fatalf("version %d after refused PUT", v)
	}
	huge := `{"tenant":"` + strings.Repeat("x", 70<<10) + `","symbol":"ES"}`
	checkError(t, "POST /risk/deny 70 KB", e.do("POST", "/risk/deny", e.tokens[RoleOperator], []byte(huge)), 413, "too_large")
	long := `{"tenant":"` + strings.Repeat("x", 200) + `","symbol":"ES"}`
	checkError(t, "POST /risk/deny long tenant", e.do("POST", "/risk/deny", e.tokens[RoleOperator], []byte(long)), 400, "bad_request")
}

func TestRiskKillSwitch(t *testing.T) {
	e := startEnv(t, nil)
	op := e.tokens[RoleOperator]
	r := e.do("POST", "/risk/deny", op, []byte(`{"tenant":"default","symbol":"ESU4"}`))
	var st RiskState
	if err := json.Unmarshal(r.body, &st); err != nil || r.status != 200 || len(st.Deny) != 2 || st.Deny[1].Symbol != "ESU4" {
		t.Fatalf("POST deny: %d %s", r.status, r.body)
	}
	r = e.do("DELETE", "/risk/deny?tenant=default&symbol=CLZ4", op, nil)
	if err := json.Unmarshal(r.body, &st); err != nil || r.status != 200 || len(st.Deny) != 1 || st.Deny[0].Symbol != "ESU4" {
		t.Fatalf("DELETE deny: %d %s", r.status, r.body)
	}
	r = e.do("POST", "/risk/halt", op, []byte(`{"on":true}`))
	if err := json.Unmarshal(r.body, &st); err != nil || !st.HaltAll {
		t.Fatalf("halt: %d %s", r.status, r.body)
	}
	if r = e.do("GET", "/risk/halt", e.tokens[RoleReadOnly], nil); string(bytes.TrimSpace(r.body)) != `{"on":true}` {
		t.Fatalf("GET halt: %s", r.body)
	}
}

func TestExperts(t *testing.T) {
	e := startEnv(t, nil)
	r := e.do("GET", "/experts", e.tokens[RoleReadOnly], nil)
	var v struct {
		RouterVersion uint64 `json:"router_version"`
		Layers        []struct {
			Layer   int              `json:"layer"`
			Experts []map[string]any `json:"experts"`
		} `json:"layers"`
	}
	if err := json.Unmarshal(r.body, &v); err != nil || v.RouterVersion != 3 || len(v.Layers) != 1 || len(v.Layers[0].Experts) != 4 {
		t.Fatalf("GET /experts: %s %v", r.body, err)
	}
	m := v.Layers[0].Experts[3]
	if m["name"] != "mlp_head" || m["p99_us"] != 1300.0 || m["budget_us"] != 1000.0 || m["over_budget"] != 3.0 {
		t.Fatalf("expert JSON %v", m)
	}
	r = e.do("POST", "/experts/0/momentum/restart", e.tokens[RoleOperator], nil)
	var st map[string]any
	if err := json.Unmarshal(r.body, &st); err != nil || st["status"] != "running" || st["restarts"] != 1.0 {
		t.Fatalf("restart: %s", r.body)
	}
}

// TestConstantTimeCompare: every configured token is compared, whether the
// presented token matches the first, the last or none, and only digests of
// one size are compared (so the presented token's length does not show).
func TestConstantTimeCompare(t *testing.T) {
	var tokens []Token
	for i := range 5 {
		tokens = append(tokens, Token{Value: fmt.Sprintf("token-number-%d-abcdefghij", i), Role: Role(1 + i%3)})
	}
	a := newAuthenticator(tokens)
	var calls int
	a.compare = func(x, y []byte) int {
		calls++
		if len(x) != 32 || len(y) != 32 {
			t.Fatalf("compared %d and %d bytes, want two sha256 digests", len(x), len(y))
		}
		return subtleCompare(x, y)
	}
	for _, c := range []struct {
		presented string
		want      Role
	}{{tokens[0].Value, tokens[0].Role}, {tokens[4].Value, tokens[4].Role}, {"nope", roleNone}, {"", roleNone},
		{tokens[2].Value + "x", roleNone}, {strings.Repeat("z", 5000), roleNone}} {
		calls = 0
		if got := a.role(c.presented); got != c.want {
			t.Errorf("role(%q) = %v, want %v", c.presented, got, c.want)
		}
		if calls != len(tokens) {
			t.Errorf("role(%q) compared %d tokens, want all %d", c.presented, calls, len(tokens))
		}
	}
}

func subtleCompare(x, y []byte) int { return newAuthenticator(nil).compare(x, y) }

func TestQueryTokenOnlyOnStream(t *testing.T) {
	e := startEnv(t, nil)
	ro := e.tokens[RoleReadOnly]
	checkError(t, "/actors?token=", e.do("GET", "/actors?token="+ro, "", nil), 401, "unauthorized")
	checkError(t, "/metrics?token=", e.do("GET", "/metrics?token="+ro, "", nil), 401, "unauthorized")
	checkError(t, "/stream?token=wrong", e.do("GET", "/stream?token="+wrongToken, "", nil), 401, "unauthorized")
	r := e.do("GET", "/stream?token="+ro+"&x=1", "", nil)
	if r.status != 200 || !strings.HasPrefix(r.header.Get("Content-Type"), "text/event-stream") {
		t.Fatalf("/stream?token=: %d %v", r.status, r.header)
	}
	e.fake.mu.Lock()
	seen := strings.Join(e.fake.streamed, "\n")
	e.fake.mu.Unlock()
	if seen == "" || strings.Contains(seen, ro) || !strings.Contains(seen, "x=1") {
		t.Fatalf("the backend's stream saw %q: want the request without its token", seen)
	}
}

// TestOptionsValidate: New refuses options that do not validate, naming
// the field; an address must be loopback unless AllowRemote.
func TestOptionsValidate(t *testing.T) {
	good, _ := GenerateToken()
	addr := func(a string, remote bool) Options {
		return Options{Addr: a, AllowRemote: remote, Tokens: []Token{good}}
	}
	for _, c := range []struct {
		opts Options
		want string // "": valid
	}{
		{Options{}, "GenerateToken"},
		{Options{Tokens: []Token{{Value: "short", Role: RoleAdmin}}}, "Options.Tokens[0].Value"},
		{Options{Tokens: []Token{good, {Value: good.Value, Role: RoleReadOnly}}}, "Options.Tokens[1].Value: same token"},
		{Options{Tokens: []Token{{Value: good.Value}}}, "Options.Tokens[0].Role"},
		{Options{Tokens: []Token{{Value: "has a space in the middle", Role: RoleAdmin}}}, "Options.Tokens[0].Value"},
		{Options{Tokens: []Token{good}, MaxBodyBytes: 10}, "Options.MaxBodyBytes"},
		{Options{Tokens: []Token{good}}, ""},
		{addr("127.0.0.1:0", false), ""}, {addr("127.0.0.5:8470", false), ""}, {addr("[::1]:8470", false), ""},
		{addr("localhost:8470", false), ""},
		{addr("0.0.0.0:8470", false), "AllowRemote"}, {addr(":8470", false), "AllowRemote"},
		{addr("10.1.2.3:8470", false), "AllowRemote"}, {addr("[::]:8470", false), "AllowRemote"},
		{addr("example.com:8470", false), "AllowRemote"},
		{addr("0.0.0.0:8470", true), ""}, {addr("10.1.2.3:8470", true), ""},
		{addr("127.0.0.1", false), "Options.Addr"}, {addr("127.0.0.1:99999", false), "bad port"},
	} {
		_, err := New(c.opts, newFakeBackend(), nil)
		if c.want == "" && err != nil || c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)) {
			t.Errorf("New(%+v): %v, want an error naming %q (none if empty)", c.opts, err, c.want)
		}
	}
	if DefaultAddr != "127.0.0.1:8470" {
		t.Fatalf("DefaultAddr %s", DefaultAddr)
	}
}

func TestGenerateToken(t *testing.T) {
	seen := map[string]bool{}
	for range 20 {
		tok, err := GenerateToken()
		if err != nil {
			t.Fatal(err)
		}
		if tok.Role != RoleAdmin || !strings.HasPrefix(tok.Value, "thl_") || len(tok.Value) != 4+43 {
			t.Fatalf("token %q role %v", tok.Value, tok.Role)
		}
		for _, c := range tok.Value[4:] {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				t.Fatalf("token %q: %q is not URL-safe", tok.Value, c)
			}
		}
		if seen[tok.Value] {
			t.Fatal("repeated token")
		}
		seen[tok.Value] = true
		if s := fmt.Sprintf("%v %+v %#v %s", tok, tok, tok, tok); strings.Contains(s, tok.Value) {
			t.Fatalf("formatting a Token shows its value: %s", s)
		}
	}
}

// TestTokenNeverLogged: a debug-level log of many requests (good, wrong and
// query tokens, a reload, the stream) never contains a token.
func TestTokenNeverLogged(t *testing.T) {
	e := startEnv(t, nil)
	all := []string{wrongToken}
	for _, v := range e.tokens {
		all = append(all, v)
	}
	for _, tok := range all {
		e.do("GET", "/actors", tok, nil)
		e.do("GET", "/actors?token="+tok, "", nil)
		e.do("GET", "/stream?token="+tok, "", nil)
		e.do("GET", "/debug/pprof/?token="+tok, tok, nil)
		e.do("POST", "/risk/halt", tok, []byte(`{"on":true}`))
		e.do("PUT", "/router", tok, []byte("version: 99\n"))
		e.do("PUT", "/router", tok, []byte("version: 1\np: 2\n"))
	}
	// A Token logged by mistake is redacted too.
	slog.New(slog.NewJSONHandler(e.logs, nil)).Info("oops", "token", Token{Value: e.tokens[RoleAdmin], Role: RoleAdmin})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := e.srv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	logs := e.logs.String()
	for _, tok := range all {
		if strings.Contains(logs, tok) {
			t.Fatalf("the log contains token %q:\n%s", tok, logs)
		}
	}
	// The log is not empty: requests, refusals and the reload are there.
	for _, want := range []string{`"msg":"request"`, "bad bearer token", "router config swapped in", "kill switch", `"route":"stream"`, "REDACTED"} {
		if !strings.Contains(logs, want) {
			t.Errorf("log lacks %q:\n%s", want, logs)
		}
	}
}

func TestServerMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	e := startEnv(t, func(o *Options) { o.Registerer = reg })
	e.do("GET", "/actors", wrongToken, nil)
	e.do("GET", "/actors", "", nil)
	e.do("GET", "/actors", e.tokens[RoleReadOnly], nil)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			key := mf.GetName()
			for _, l := range m.GetLabel() {
				key += "," + l.GetName() + "=" + l.GetValue()
			}
			got[key] = m.GetCounter().GetValue()
		}
	}
	for k, want := range map[string]float64{
		"thunderline_admin_auth_failures_total,reason=invalid":   1,
		"thunderline_admin_auth_failures_total,reason=missing":   1,
		"thunderline_admin_requests_total,code=401,route=actors": 2,
		"thunderline_admin_requests_total,code=200,route=actors": 1,
	} {
		if got[k] != want {
			t.Errorf("%s = %v, want %v (all: %v)", k, got[k], want, got)
		}
	}
}

func TestDashboardHeaders(t *testing.T) {
	e := startEnv(t, nil)
	r := e.do("GET", "/dashboard", "", nil)
	csp := r.header.Get("Content-Security-Policy")
	if r.status != 200 || !strings.Contains(csp, "script-src 'sha256-") || !strings.Contains(csp, "default-src 'none'") {
		t.Fatalf("dashboard: %d CSP %q", r.status, csp)
	}
	for _, id := range []string{`id="ticks-rate"`, `id="decisions-table"`, `id="experts-table"`, `id="tok-form"`, `id="halt-toggle"`} {
		if !bytes.Contains(r.body, []byte(id)) {
			t.Errorf("dashboard lacks %s", id)
		}
	}
	if bytes.Contains(r.body, []byte("http://")) || bytes.Contains(r.body, []byte("https://")) {
		t.Error("dashboard refers to an external resource")
	}
	if r.header.Get("Cache-Control") != "no-store" || r.header.Get("X-Frame-Options") != "DENY" {
		t.Errorf("headers %v", r.header)
	}
	req, _ := http.NewRequest("GET", e.url+"/", nil)
	res, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusFound || res.Header.Get("Location") != "/dashboard" {
		t.Fatalf("/ → %d %s", res.StatusCode, res.Header.Get("Location"))
	}
}

func TestStartTwiceAndShutdown(t *testing.T) {
	e := startEnv(t, nil)
	if _, err := e.srv.Start(); err == nil {
		t.Fatal("second Start worked")
	}
}

// TestFlagStatus: retired wins over failed, failed over forced.
func TestFlagStatus(t *testing.T) {
	for _, c := range []struct {
		s    ExpertStats
		want string
	}{
		{ExpertStats{}, "running"}, {ExpertStats{Forced: true}, "forced"}, {ExpertStats{Failed: true, Forced: true}, "failed"},
		{ExpertStats{Retired: true, Failed: true, Forced: true}, "retired"},
	} {
		if got := c.s.FlagStatus(); got != c.want {
			t.Errorf("%+v: %q, want %q", c.s, got, c.want)
		}
	}
}
