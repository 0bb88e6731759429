package admin

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"thunderline/actors/eye"
	"thunderline/engine"
)

func vmRSS(t *testing.T) int64 {
	t.Helper()
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb << 10
		}
	}
	t.Fatal("no VmRSS")
	return 0
}

// TestAdminModelFiles: an admin swap naming /dev/zero, a FIFO, a file
// outside the models directory or a file that is not a model is refused
// in bounded time and memory, with an error that echoes nothing of the
// file (not even its first 8 bytes as a header length), and the engine
// keeps deciding.
func TestAdminModelFiles(t *testing.T) {
	models := t.TempDir()
	secret := filepath.Join(t.TempDir(), "secret")
	// Its first 8 bytes read as a little-endian length: what the old error
	// printed.
	if err := os.WriteFile(secret, []byte("TOPSECRETPASSWORD"), 0o600); err != nil {
		t.Fatal(err)
	}
	leak := strconv.FormatUint(binary.LittleEndian.Uint64([]byte("TOPSECRE")), 10)
	fifo := filepath.Join(models, "fifo.safetensors")
	if err := mkfifo(fifo); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		dir, weights, want string
	}{
		{"", "/dev/zero", "regular file"},
		{"", fifo, "regular file"},
		{"", secret, "not a safetensors file"},
		{models, "/dev/zero", "outside"},
		{models, "../../../../" + strings.TrimPrefix(secret, "/"), "outside"},
		{models, secret, "outside"},
		{models, "fifo.safetensors", "regular file"},
	} {
		t.Run(fmt.Sprintf("dir=%v/%s", tc.dir != "", filepath.Base(tc.weights)), func(t *testing.T) {
			url, p, cancel, done := swapEngine(t, tc.dir)
			defer func() { cancel(); <-done }()
			before := vmRSS(t)
			start := time.Now()
			code, body := post(t, url+"/experts/0/mlp_head/swap", fmt.Sprintf(`{"kind": "mlp", "hidden": 8, "weights": %q}`, tc.weights))
			if code != http.StatusUnprocessableEntity || !strings.Contains(body, tc.want) {
				t.Fatalf("swap to %s: %d %s, want 422 saying %q", tc.weights, code, body, tc.want)
			}
			if strings.Contains(body, leak) || strings.Contains(body, "TOPSECRE") || strings.ContainsRune(body, 0) {
				t.Fatalf("the error echoes the file: %s", body)
			}
			if grew := vmRSS(t) - before; grew > 64<<20 {
				t.Fatalf("the refused swap grew the process by %d MiB", grew>>20)
			}
			if d := time.Since(start); d > 30*time.Second {
				t.Fatalf("the refusal took %v", d)
			}
			n := p.Snapshot(time.Now()).Decisions
			for deadline := time.Now().Add(20 * time.Second); p.Snapshot(time.Now()).Decisions <= n; time.Sleep(10 * time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatal("no decision after the refused swap")
				}
			}
		})
	}
}

const swapToken = "admin-token-0123456789"

// swapEngine runs a real-time engine with its admin server, model files
// confined to dir when dir is set.
func swapEngine(t *testing.T, dir string) (string, *engine.Pipeline, context.CancelFunc, chan struct{}) {
	t.Helper()
	yml := "feed: {pace: realtime, synthetic: {symbols: 8, rate: 20000}}\nnormalize: {seq: contiguous}\njournal: {enabled: false}\n"
	if dir != "" {
		yml += fmt.Sprintf("models: {dir: %q}\n", dir)
	}
	p, src := realtimeProfile(t, yml, "")
	be := New(p, "synthetic")
	be.Attach()
	url := serve(t, be, eye.Token{Value: swapToken, Role: eye.RoleAdmin})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if _, err := p.Run(ctx, src); err != nil {
			t.Error(err)
		}
	}()
	for p.Snapshot(time.Now()).Decisions == 0 {
		time.Sleep(10 * time.Millisecond)
	}
	return url, p, cancel, done
}

func mkfifo(path string) error { return syscall.Mkfifo(path, 0o600) }

func post(t *testing.T, url, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", url, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+swapToken)
	res, err := (&http.Client{Timeout: 60 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}
