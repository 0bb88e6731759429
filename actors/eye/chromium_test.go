package eye

import (
	"bytes"
	"context"
	"encoding/json"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"thunderline/actors/eye/eyetest"
)

// updateScreenshotEnv, when set, makes TestDashboardChromium also write its
// screenshot to testdata/dashboard.png.
const updateScreenshotEnv = "EYE_UPDATE_SCREENSHOT"

// pageState is what the dashboard shows, read from its DOM.
type pageState struct {
	LoginHidden   bool   `json:"loginHidden"`
	Conn          string `json:"conn"`
	TicksRate     string `json:"ticksRate"`
	WindowsRate   string `json:"windowsRate"`
	DecisionsRate string `json:"decisionsRate"`
	Lag           string `json:"lag"`
	Backlog       string `json:"backlog"`
	Latency       string `json:"latency"`
	RouterVersion string `json:"routerVersion"`
	LadderStep    string `json:"ladderStep"`
	Halt          string `json:"halt"`
	Decisions     []struct {
		Symbol string `json:"symbol"`
		Action string `json:"action"`
		Flags  string `json:"flags"`
		Router string `json:"router"`
	} `json:"decisions"`
	Experts     map[string]string `json:"experts"` // layer/name → status cell
	RouterRows  []string          `json:"routerRows"`
	Deny        []string          `json:"deny"`
	Actors      map[string]string `json:"actors"` // path → status
	Stored      bool              `json:"stored"` // sessionStorage holds the token
	TokenInHTML bool              `json:"tokenInHtml"`
	SparkPixels int               `json:"sparkPixels"` // non-transparent pixels of the ticks sparkline
}

const readState = `(() => {
  const $ = (id) => document.getElementById(id);
  const txt = (e) => (e ? e.textContent.trim() : null);
  const q = (sel) => [...document.querySelectorAll(sel)];
  const cv = $('spark-ticks');
  const px = cv.getContext('2d').getImageData(0, 0, cv.width, cv.height).data;
  let n = 0;
  for (let i = 3; i < px.length; i += 4) if (px[i] > 0) n++;
  return {
    loginHidden: $('login').hidden,
    conn: $('conn-status').dataset.state,
    ticksRate: txt($('ticks-rate')), windowsRate: txt($('windows-rate')), decisionsRate: txt($('decisions-rate')),
    lag: txt($('lag')), backlog: txt($('backlog')), latency: txt($('latency')),
    routerVersion: txt($('router-version')), ladderStep: $('ladder-step').dataset.step, halt: $('halt-state').dataset.on,
    decisions: q('#decisions-table tbody tr[data-symbol]').map((r) => ({ symbol: r.dataset.symbol,
      action: txt(r.querySelector('.action')), router: r.dataset.routerVersion,
      flags: [...r.querySelectorAll('.flag')].map((f) => f.textContent).join(',') })),
    experts: Object.fromEntries(q('#experts-table tbody tr[data-expert]').map((r) => [r.dataset.expert, r.dataset.status])),
    routerRows: q('#router-layers tbody tr[data-layer]').map((r) => txt(r)),
    deny: q('#deny-table tbody tr[data-symbol]').map((r) => r.dataset.tenant + '/' + r.dataset.symbol),
    actors: Object.fromEntries(q('#actors-table tbody tr[data-path]').map((r) => [r.dataset.path, r.dataset.status])),
    stored: sessionStorage.getItem('thunderline.eye.token') === TOKEN,
    tokenInHtml: document.documentElement.outerHTML.includes(TOKEN),
    sparkPixels: n,
  };
})()`

// TestDashboardChromium loads the dashboard in headless Chromium against a
// server with the fake backend: signs in through the token form, checks
// what the page shows from the fetches and the stream (a replayed and a
// live decision, throughput, router, experts, ladder step), engages the kill
// switch from the page, and keeps a screenshot.
func TestDashboardChromium(t *testing.T) {
	path := eyetest.ChromiumPath(t)
	e := startEnv(t, nil)
	hub := e.fake.hub
	hub.PublishSummary(e.fake.Summary())
	hub.PublishDecision(Decision{Time: time.Date(2024, 7, 2, 0, 0, 0, 250e6, time.UTC), Tenant: "default", Symbol: "ESU4",
		Action: "buy", Proposed: "buy", Confidence: 0.82, RouterVersion: 3, Experts: []string{"momentum", "order_flow"},
		Position: 1, PnL: 3.25, LatencyUs: 120})
	hub.PublishDecision(Decision{Time: time.Date(2024, 7, 2, 0, 0, 0, 500e6, time.UTC), Tenant: "default", Symbol: "CLZ4",
		Action: "abstain", Proposed: "sell", Confidence: 0.4, RiskFlags: []string{"halted"}, RouterVersion: 3})

	ctx, cancel := context.WithTimeout(context.Background(), 25*time.Second)
	defer cancel()
	page := eyetest.Launch(t, path).Open(ctx, e.url+"/dashboard", 1440, 1000)
	wait := func(what, cond string) {
		t.Helper()
		page.Wait(what, cond, 10*time.Second)
	}
	tok, _ := json.Marshal(e.tokens[RoleOperator])
	state := func() pageState {
		t.Helper()
		var st pageState
		// A block, so that each evaluation declares its own TOKEN.
		page.Eval("read the page", "{ const TOKEN = "+string(tok)+"; "+readState+" }", &st)
		return st
	}

	// Without a token the page asks for one, and fetches nothing.
	wait("the token form", `!document.getElementById('login').hidden`)
	signIn := `(() => { document.getElementById('tok-input').value = ` + string(tok) + `;
	  document.getElementById('tok-form').requestSubmit(); return true; })()`
	page.Eval("sign in", signIn, nil)
	wait("live data", `document.getElementById('conn-status').dataset.state === 'open'
	  && document.querySelector('#decisions-table tr[data-symbol="ESU4"]')
	  && document.querySelector('#experts-table tr[data-expert="0/momentum"]')
	  && document.querySelector('#actors-table tr[data-path="engine/flow/1"]')
	  && document.querySelector('#deny-table tr[data-symbol="CLZ4"]')`)

	st := state()
	check := func(what, got, want string) {
		t.Helper()
		if got != want {
			t.Errorf("%s: page shows %q, want %q", what, got, want)
		}
	}
	if !st.LoginHidden || !st.Stored {
		t.Errorf("after sign-in: login hidden %v, token in sessionStorage %v", st.LoginHidden, st.Stored)
	}
	if st.TokenInHTML {
		t.Error("the token is in the page's HTML")
	}
	check("ticks/s", st.TicksRate, "123.5k")
	check("windows/s", st.WindowsRate, "128")
	check("decisions/s", st.DecisionsRate, "127")
	check("lag", st.Lag, "4.2 ms")
	check("backlog", st.Backlog, "1,500")
	check("latency", st.Latency, "85.0 µs / 410.0 µs")
	check("router version", st.RouterVersion, "3")
	check("ladder step", st.LadderStep, "0")
	check("halt", st.Halt, "false")
	if len(st.Decisions) != 2 || st.Decisions[0].Symbol != "CLZ4" || st.Decisions[1].Symbol != "ESU4" ||
		st.Decisions[1].Action != "buy" || st.Decisions[0].Flags != "halted" || st.Decisions[1].Router != "3" {
		t.Errorf("decisions %+v", st.Decisions)
	}
	if st.Experts["0/momentum"] != "failed" || st.Experts["0/mlp_head"] != "running" || len(st.Experts) != 4 {
		t.Errorf("experts %v", st.Experts)
	}
	if len(st.RouterRows) != 1 || !strings.Contains(st.RouterRows[0], "90.0%") {
		t.Errorf("router rows %q", st.RouterRows)
	}
	if len(st.Deny) != 1 || st.Deny[0] != "default/CLZ4" {
		t.Errorf("deny %v", st.Deny)
	}
	if st.Actors["engine/flow/1"] != "restarting" || len(st.Actors) != 5 {
		t.Errorf("actors %v", st.Actors)
	}

	// Live: a decision and a summary published now reach the page.
	hub.PublishDecision(Decision{Time: time.Date(2024, 7, 2, 0, 0, 1, 0, time.UTC), Tenant: "default", Symbol: "NQZ4",
		Action: "abstain", Proposed: "sell", Confidence: 0.61, RiskFlags: []string{"position_cap", "breach_forced_abstain"},
		RouterVersion: 4, Experts: []string{"mean_reversion"}, Position: -10, PnL: -1.5, LatencyUs: 95})
	s := e.fake.Summary()
	for i := range 40 { // a burst, for the sparklines
		f := float64(i)
		s.TicksPerSec, s.WindowsPerSec, s.DecisionsPerSec = 100000+f*f*60, 128+f, 120+f/2
		s.LagMs, s.Backlog = 2+float64(i%7), uint64(100+i*i*2)
		hub.PublishSummary(s)
	}
	s.TicksPerSec, s.Backlog = 250000, 3900
	s.Ladder = Ladder{Step: 3, Name: LadderStepName(3), Reason: "experts per token 2.2 > planned 1.8 + 0.3"}
	hub.PublishSummary(s)
	wait("the live decision and summary", `document.querySelector('#decisions-table tbody tr').dataset.symbol === 'NQZ4'
	  && document.getElementById('ladder-step').dataset.step === '3'`)
	st = state()
	check("ticks/s after a live summary", st.TicksRate, "250.0k")
	check("backlog after a live summary", st.Backlog, "3,900")
	if len(st.Decisions) != 3 || st.Decisions[0].Flags != "position_cap,breach_forced_abstain" || st.Decisions[0].Router != "4" {
		t.Errorf("live decision %+v", st.Decisions)
	}
	if st.SparkPixels < 500 {
		t.Errorf("the ticks sparkline drew %d pixels", st.SparkPixels)
	}

	// The kill switch, engaged from the page with the operator token.
	page.Eval("click HALT ALL", `document.getElementById('halt-toggle').click(), true`, nil)
	select {
	case on := <-e.fake.haltCh:
		if !on {
			t.Fatal("HALT ALL turned the kill switch off")
		}
	case <-ctx.Done():
		page.Fail("the kill switch click to reach the backend", ctx.Err())
	}
	wait("the halted state", `document.getElementById('halt-state').dataset.on === 'true'`)

	// Screenshot of the whole page.
	img := page.Screenshot(1440)
	cfg, err := png.DecodeConfig(bytes.NewReader(img))
	if err != nil || cfg.Width != 1440 || cfg.Height < 900 {
		t.Fatalf("screenshot: %v, %dx%d", err, cfg.Width, cfg.Height)
	}
	out := filepath.Join(t.TempDir(), "dashboard.png")
	if err := os.WriteFile(out, img, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot %s (%dx%d)", out, cfg.Width, cfg.Height)
	if os.Getenv(updateScreenshotEnv) != "" {
		if err := os.WriteFile(filepath.Join("testdata", "dashboard.png"), img, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	page.CheckClean()
}
