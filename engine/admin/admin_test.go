package admin

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"thunderline/actors/eye"
	"thunderline/engine"
)

// TestAdminAgainstRunningEngine drives the admin API of a real running
// pipeline: auth refused without or with a weak role, an invalid router
// refused with the field named and the version unchanged, a valid one
// swapped in, the kill switch halting decisions, experts listed.
func TestAdminAgainstRunningEngine(t *testing.T) {
	p, src := realtime(t, 8, 50000)
	be := New(p, "synthetic")
	be.Attach()
	winSub, err := be.Bus().Subscribe("feature_windows:market")
	if err != nil {
		t.Fatal(err)
	}
	defer winSub.Close()
	admin := eye.Token{Value: "admin-token-0123456789", Role: eye.RoleAdmin}
	reader := eye.Token{Value: "reader-token-0123456789", Role: eye.RoleReadOnly}
	url := serve(t, be, admin, reader)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go be.Run(ctx, 100*time.Millisecond)
	done := make(chan *engine.Summary, 1)
	go func() {
		s, err := p.Run(ctx, src)
		if err != nil {
			t.Error(err)
		}
		done <- s
	}()

	call := func(method, path, token, body string) (int, map[string]any) {
		t.Helper()
		req, _ := http.NewRequest(method, url+path, strings.NewReader(body))
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		var m map[string]any
		json.Unmarshal(b, &m)
		return resp.StatusCode, m
	}
	waitFor := func(what string, ok func() bool) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for !ok() {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s", what)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	if c, _ := call("GET", "/healthz", "", ""); c != 200 {
		t.Fatalf("healthz %d", c)
	}
	waitFor("readyz", func() bool { c, _ := call("GET", "/readyz", "", ""); return c == 200 })
	if c, m := call("GET", "/summary", "", ""); c != 401 || m["code"] != "unauthorized" {
		t.Fatalf("no token: %d %v", c, m)
	}
	if c, _ := call("GET", "/summary", "wrong-token-0123456789", ""); c != 401 {
		t.Fatalf("wrong token: %d", c)
	}
	if c, _ := call("POST", "/risk/halt", reader.Value, `{"on": true}`); c != 403 {
		t.Fatalf("read-only halting: %d", c)
	}
	waitFor("decisions", func() bool {
		_, m := call("GET", "/summary", reader.Value, "")
		d, _ := m["decisions"].(float64)
		return d > 0
	})

	// An invalid router: refused, field named, version unchanged.
	c, m := call("PUT", "/router", admin.Value, "version: 2\nlayers: [{experts: 4, capacity_factor: 2, p: 1.5}]\n")
	if c != 422 || !strings.Contains(m["field"].(string)+m["message"].(string), "p") {
		t.Fatalf("invalid router: %d %v", c, m)
	}
	if _, m := call("GET", "/summary", reader.Value, ""); m["router_version"].(float64) != 1 {
		t.Fatalf("version changed by a refused config: %v", m["router_version"])
	}
	// A valid one: swapped in (in band, at the next boundary).
	if c, m := call("PUT", "/router", admin.Value, "version: 2\nseed: 99\n"); c != 200 {
		t.Fatalf("valid router: %d %v", c, m)
	}
	waitFor("router v2 in use", func() bool {
		_, m := call("GET", "/summary", reader.Value, "")
		return m["router_version"].(float64) == 2
	})

	// Experts are listed with their stats.
	req, _ := http.NewRequest("GET", url+"/experts", nil)
	req.Header.Set("Authorization", "Bearer "+reader.Value)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var ex struct {
		Layers []struct {
			Experts []struct {
				Name  string  `json:"name"`
				Calls float64 `json:"calls"`
			} `json:"experts"`
		} `json:"layers"`
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err := json.Unmarshal(b, &ex); err != nil || len(ex.Layers) != 1 || len(ex.Layers[0].Experts) != 4 {
		t.Fatalf("experts: %v %s", err, b)
	}

	// Pub/sub: windows arrive on their topic; decisions stream over SSE.
	select {
	case ev := <-winSub.C():
		var w map[string]any
		if json.Unmarshal(ev.Data, &w) != nil || w["recipe"] != "full" || w["features"] == nil {
			t.Fatalf("window event %s", ev.Data)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no window on feature_windows:market")
	}
	sreq, _ := http.NewRequest("GET", url+"/stream?topics=decisions", nil)
	sreq.Header.Set("Authorization", "Bearer "+reader.Value)
	sctx, scancel := context.WithTimeout(ctx, 10*time.Second)
	sresp, err := http.DefaultClient.Do(sreq.WithContext(sctx))
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64<<10)
	var got strings.Builder
	for !strings.Contains(got.String(), "event: decisions") {
		n, err := sresp.Body.Read(buf)
		got.Write(buf[:n])
		if err != nil {
			t.Fatalf("SSE stream: %v after %q", err, got.String())
		}
	}
	scancel()
	sresp.Body.Close()

	// Swap an expert's model (blue/green): a new router version runs it.
	if c, m := call("POST", "/experts/0/mlp_head/swap", reader.Value, `{"kind": "mlp", "hidden": 8}`); c != 403 {
		t.Fatalf("read-only swap: %d %v", c, m)
	}
	if c, m := call("POST", "/experts/0/mlp_head/swap", admin.Value, `{"kind": "teleport"}`); c != 422 {
		t.Fatalf("bad swap: %d %v", c, m)
	}
	c, m = call("POST", "/experts/0/mlp_head/swap", admin.Value, `{"kind": "mlp", "hidden": 8, "seed": 5}`)
	if c != 200 || m["router_version"].(float64) != 3 {
		t.Fatalf("swap: %d %v", c, m)
	}
	waitFor("router v3 in use", func() bool {
		_, m := call("GET", "/summary", reader.Value, "")
		return m["router_version"].(float64) == 3
	})

	// The kill switch: every later decision abstains, with the halted flag.
	if c, _ := call("POST", "/risk/halt", admin.Value, `{"on": true}`); c != 200 {
		t.Fatalf("halt: %d", c)
	}
	halted := p.Stage().Metrics().Actions[3].Load()
	waitFor("halted decisions", func() bool { return p.Stage().Metrics().Actions[3].Load() > halted+16 })
	cancel()
	sum := <-done
	if sum.Decisions.Halted == 0 {
		t.Fatalf("no decision was halted: %+v", sum.Decisions)
	}
}
