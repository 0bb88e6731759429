package admin

import (
	"bytes"
	"context"
	"encoding/json"
	"image/png"
	"os"
	"path/filepath"
	"testing"
	"time"

	"thunderline/actors/eye"
	"thunderline/actors/eye/eyetest"
	"thunderline/actors/tree"
)

// TestDashboardAgainstRunningEngine loads the dashboard in headless
// Chromium against a running engine (synthetic feed, actor tree, admin
// HTTP): signs in with a token, waits for live figures, decisions, experts
// and the actor tree to show, engages the kill switch from the page and
// checks the engine halted, and keeps a screenshot
// (DASHBOARD_SCREENSHOT=path also writes it there).
func TestDashboardAgainstRunningEngine(t *testing.T) {
	path := eyetest.ChromiumPath(t)
	p, src := realtime(t, 12, 40000)
	tr, err := p.StartTree(tree.Options{}, true, true)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Stop()
	be := New(p, "synthetic")
	be.Attach()
	op := eye.Token{Value: "operator-token-0123456789", Role: eye.RoleOperator}
	url := serve(t, be, op)
	runCtx, stopRun := context.WithCancel(context.Background())
	defer stopRun()
	go be.Run(runCtx, 200*time.Millisecond)
	done := make(chan struct{})
	go func() { defer close(done); p.Run(runCtx, src) }()
	defer func() { stopRun(); <-done }()

	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	b := eyetest.Launch(t, path)
	fail := func(what string, err error) {
		t.Helper()
		t.Fatalf("%s: %v\nexceptions: %v\nconsole: %v\nchromium stderr (tail):\n%s", what, err, b.Exceptions(), b.Console(), b.Stderr())
	}
	sess, err := b.NewPage(ctx)
	if err != nil {
		fail("open a tab", err)
	}
	if err := b.Call(ctx, sess, "Emulation.setDeviceMetricsOverride", map[string]any{"width": 1440, "height": 1000,
		"deviceScaleFactor": 1, "mobile": false}, nil); err != nil {
		fail("viewport", err)
	}
	loaded := b.Expect(sess, "Page.loadEventFired")
	tok, _ := json.Marshal(op.Value)
	// The token travels in the URL fragment (never sent to the server).
	if err := b.Call(ctx, sess, "Page.navigate", map[string]any{"url": url + "/dashboard#token=" + op.Value}, nil); err != nil {
		fail("navigate", err)
	}
	select {
	case <-loaded:
	case <-ctx.Done():
		fail("load the dashboard", ctx.Err())
	}
	wait := func(what, cond string) {
		t.Helper()
		if err := b.Eval(ctx, sess, eyetest.WaitJS(cond, 20*time.Second), nil); err != nil {
			fail(what, err)
		}
	}
	wait("live data from the engine", `document.getElementById('conn-status').dataset.state === 'open'
	  && document.querySelector('#decisions-table tbody tr[data-symbol^="SYN"]')
	  && document.querySelector('#experts-table tr[data-expert="0/momentum"]')
	  && document.querySelector('#actors-table tr[data-path="engine/flow/0"]')
	  && document.querySelector('#actors-table tr[data-path="engine/chief/bolt/0.momentum"]')
	  && parseFloat(document.getElementById('ticks-rate').textContent) > 0`)
	var shown struct {
		Ticks   string `json:"ticks"`
		Router  string `json:"router"`
		Actors  int    `json:"actors"`
		Experts int    `json:"experts"`
		Stored  bool   `json:"stored"`
	}
	if err := b.Eval(ctx, sess, `{ const TOKEN = `+string(tok)+`; ({ ticks: document.getElementById('ticks-rate').textContent,
	  router: document.getElementById('router-version').textContent.trim(),
	  actors: document.querySelectorAll('#actors-table tbody tr[data-path]').length,
	  experts: document.querySelectorAll('#experts-table tbody tr[data-expert]').length,
	  stored: sessionStorage.getItem('thunderline.eye.token') === TOKEN }) }`, &shown); err != nil {
		fail("read the page", err)
	}
	if shown.Router != "1" || shown.Experts != 4 || shown.Actors < 8 || !shown.Stored {
		t.Fatalf("the page shows %+v", shown)
	}

	// The kill switch, from the page: the engine halts.
	if err := b.Eval(ctx, sess, `document.getElementById('halt-toggle').click(), true`, nil); err != nil {
		fail("click HALT ALL", err)
	}
	wait("the halted state", `document.getElementById('halt-state').dataset.on === 'true'`)
	if !p.Stage().Deny().AllHalted() {
		t.Fatal("the page shows HALTED but the engine is not halted")
	}
	img, err := b.Screenshot(ctx, sess, 1440)
	if err != nil {
		fail("screenshot", err)
	}
	if cfg, err := png.DecodeConfig(bytes.NewReader(img)); err != nil || cfg.Width != 1440 {
		t.Fatalf("screenshot: %v", err)
	}
	out := filepath.Join(t.TempDir(), "dashboard-live.png")
	os.WriteFile(out, img, 0o644)
	if dst := os.Getenv("DASHBOARD_SCREENSHOT"); dst != "" {
		os.WriteFile(dst, img, 0o644)
	}
	t.Logf("screenshot %s", out)
	if ex := b.Exceptions(); len(ex) > 0 {
		t.Errorf("JavaScript exceptions: %v", ex)
	}
	if c := b.Console(); len(c) > 0 {
		t.Errorf("console errors: %v", c)
	}
}
