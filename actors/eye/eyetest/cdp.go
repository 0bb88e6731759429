package eyetest

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Browser drives a headless Chromium over the DevTools protocol on a pipe
// (--remote-debugging-pipe: JSON messages separated by NUL bytes, on file
// descriptors 3 for commands and 4 for replies and events). A pipe needs no
// WebSocket client and opens no debugging port on the machine.
type Browser struct {
	t      testing.TB
	cmd    *exec.Cmd
	in     *os.File // our end of Chromium's fd 3
	out    *os.File // our end of Chromium's fd 4
	stderr *tailBuffer

	wmu sync.Mutex // serializes writes to in

	mu         sync.Mutex
	nextID     int64
	pending    map[int64]chan cdpMessage
	waiters    []*cdpWaiter
	exceptions []string
	console    []string
	readErr    error
	closed     chan struct{} // closed when the reader stops
}

type cdpMessage struct {
	ID        int64           `json:"id,omitempty"`
	Method    string          `json:"method,omitempty"`
	Params    json.RawMessage `json:"params,omitempty"`
	Result    json.RawMessage `json:"result,omitempty"`
	SessionID string          `json:"sessionId,omitempty"`
	Error     *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error,omitempty"`
}

type cdpWaiter struct {
	session, method string
	ch              chan json.RawMessage
}

// tailBuffer keeps the last 16 KiB written (Chromium's stderr, for failure
// messages).
type tailBuffer struct {
	mu sync.Mutex
	b  []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if len(t.b) > 16<<10 {
		t.b = t.b[len(t.b)-16<<10:]
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.b)
}

// chromiumFlags are the flags of every headless run.
func chromiumFlags(userDataDir string) []string {
	return []string{
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--disable-dev-shm-usage", "--no-proxy-server", "--hide-scrollbars", "--mute-audio",
		"--disable-extensions", "--disable-default-apps", "--no-default-browser-check",
		"--user-data-dir=" + userDataDir, "--remote-debugging-pipe", "--window-size=1440,1000",
		"about:blank",
	}
}

// Launch starts Chromium (at path, see ChromiumPath) in its own process group; the test's
// cleanup closes it and, if it lingers, kills that group (only the
// processes this test started).
func Launch(t testing.TB, path string) *Browser {
	t.Helper()
	cmdR, cmdW, err := os.Pipe() // Chromium reads commands from fd 3
	if err != nil {
		t.Fatal(err)
	}
	evR, evW, err := os.Pipe() // and writes replies and events to fd 4
	if err != nil {
		t.Fatal(err)
	}
	b := &Browser{t: t, in: cmdW, out: evR, stderr: &tailBuffer{}, pending: map[int64]chan cdpMessage{},
		closed: make(chan struct{})}
	b.cmd = exec.Command(path, chromiumFlags(t.TempDir())...)
	b.cmd.ExtraFiles = []*os.File{cmdR, evW}
	b.cmd.Stdout, b.cmd.Stderr = b.stderr, b.stderr
	b.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	b.cmd.WaitDelay = 2 * time.Second // children holding stderr must not hold up Wait
	if err := b.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", path, err)
	}
	cmdR.Close()
	evW.Close()
	go b.read()
	t.Cleanup(b.close)
	return b
}

func (b *Browser) read() {
	defer close(b.closed)
	r := bufio.NewReaderSize(b.out, 1<<20)
	for {
		raw, err := r.ReadBytes(0)
		if err != nil {
			b.mu.Lock()
			b.readErr = err
			b.mu.Unlock()
			return
		}
		var m cdpMessage
		if err := json.Unmarshal(raw[:len(raw)-1], &m); err != nil {
			continue
		}
		b.mu.Lock()
		if m.ID != 0 {
			if ch, ok := b.pending[m.ID]; ok {
				delete(b.pending, m.ID)
				ch <- m
			}
			b.mu.Unlock()
			continue
		}
		switch m.Method {
		case "Runtime.exceptionThrown":
			b.exceptions = append(b.exceptions, string(m.Params))
		case "Runtime.consoleAPICalled":
			var p struct {
				Type string `json:"type"`
			}
			if json.Unmarshal(m.Params, &p) == nil && (p.Type == "error" || p.Type == "warning") {
				b.console = append(b.console, string(m.Params))
			}
		}
		kept := b.waiters[:0]
		for _, w := range b.waiters {
			if w.method == m.Method && w.session == m.SessionID {
				w.ch <- m.Params
				continue
			}
			kept = append(kept, w)
		}
		b.waiters = kept
		b.mu.Unlock()
	}
}

// Expect registers for the next event of method in session; register
// before the command that causes it.
func (b *Browser) Expect(session, method string) <-chan json.RawMessage {
	w := &cdpWaiter{session: session, method: method, ch: make(chan json.RawMessage, 1)}
	b.mu.Lock()
	b.waiters = append(b.waiters, w)
	b.mu.Unlock()
	return w.ch
}

// Call sends a command and decodes its result into out (if not nil).
func (b *Browser) Call(ctx context.Context, session, method string, params, out any) error {
	p, err := json.Marshal(params)
	if err != nil {
		return err
	}
	ch := make(chan cdpMessage, 1)
	b.mu.Lock()
	b.nextID++
	id := b.nextID
	b.pending[id] = ch
	b.mu.Unlock()
	msg, _ := json.Marshal(cdpMessage{ID: id, Method: method, Params: p, SessionID: session})
	b.wmu.Lock()
	_, err = b.in.Write(append(msg, 0))
	b.wmu.Unlock()
	if err != nil {
		return fmt.Errorf("%s: write: %w", method, err)
	}
	select {
	case m := <-ch:
		if m.Error != nil {
			return fmt.Errorf("%s: %s (%d)", method, m.Error.Message, m.Error.Code)
		}
		if out != nil {
			return json.Unmarshal(m.Result, out)
		}
		return nil
	case <-b.closed:
		return fmt.Errorf("%s: chromium exited: %v\n%s", method, b.readErr, b.stderr)
	case <-ctx.Done():
		return fmt.Errorf("%s: %w", method, ctx.Err())
	}
}

// NewPage opens a tab and attaches to it; it returns the session id.
func (b *Browser) NewPage(ctx context.Context) (string, error) {
	var target struct {
		TargetID string `json:"targetId"`
	}
	if err := b.Call(ctx, "", "Target.createTarget", map[string]any{"url": "about:blank"}, &target); err != nil {
		return "", err
	}
	var att struct {
		SessionID string `json:"sessionId"`
	}
	if err := b.Call(ctx, "", "Target.attachToTarget", map[string]any{"targetId": target.TargetID, "flatten": true}, &att); err != nil {
		return "", err
	}
	for _, m := range []string{"Page.enable", "Runtime.enable"} {
		if err := b.Call(ctx, att.SessionID, m, map[string]any{}, nil); err != nil {
			return "", err
		}
	}
	return att.SessionID, nil
}

// Eval evaluates a JavaScript expression in the page, awaiting a promise,
// and decodes its value into out (if not nil).
func (b *Browser) Eval(ctx context.Context, session, expr string, out any) error {
	var res struct {
		Result struct {
			Value json.RawMessage `json:"value"`
		} `json:"result"`
		ExceptionDetails *struct {
			Text      string `json:"text"`
			Exception struct {
				Description string `json:"description"`
			} `json:"exception"`
		} `json:"exceptionDetails"`
	}
	err := b.Call(ctx, session, "Runtime.evaluate", map[string]any{"expression": expr, "awaitPromise": true,
		"returnByValue": true}, &res)
	if err != nil {
		return err
	}
	if d := res.ExceptionDetails; d != nil {
		return errors.New(strings.TrimSpace(d.Text + " " + d.Exception.Description))
	}
	if out != nil {
		return json.Unmarshal(res.Result.Value, out)
	}
	return nil
}

// WaitJS is an expression that resolves when cond (a JavaScript
// expression) is truthy, checked on every DOM change, and rejects after
// timeout naming what it waited for.
func WaitJS(cond string, timeout time.Duration) string {
	desc, _ := json.Marshal(cond)
	return fmt.Sprintf(`new Promise((resolve, reject) => {
  const t0 = Date.now();
  let obs, iv;
  const done = (f, v) => { obs.disconnect(); clearInterval(iv); f(v); };
  const check = () => {
    let ok = false;
    try { ok = !!(%s); } catch (e) { ok = false; }
    if (ok) done(resolve, true);
    else if (Date.now() - t0 > %d) done(reject, new Error('timed out waiting for ' + %s));
  };
  obs = new MutationObserver(check);
  obs.observe(document, { subtree: true, childList: true, attributes: true, characterData: true });
  iv = setInterval(check, 100);
  check();
})`, cond, timeout.Milliseconds(), desc)
}

// close asks Chromium to quit, then kills its process group if it has not
// exited within 5 s.
func (b *Browser) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	_ = b.Call(ctx, "", "Browser.close", map[string]any{}, nil)
	b.in.Close()
	exited := make(chan struct{})
	go func() {
		b.cmd.Wait()
		close(exited)
	}()
	select {
	case <-exited:
	case <-time.After(5 * time.Second):
		syscall.Kill(-b.cmd.Process.Pid, syscall.SIGKILL)
		<-exited
	}
	// Renderers left in the group Chromium led (ours): gone too.
	syscall.Kill(-b.cmd.Process.Pid, syscall.SIGKILL)
	b.out.Close()
}

// Exceptions are the JavaScript exceptions the page threw so far.
func (b *Browser) Exceptions() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.exceptions...)
}

// Console are the console errors the page logged so far.
func (b *Browser) Console() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.console...)
}

// Stderr is the tail of Chromium's standard error.
func (b *Browser) Stderr() string { return b.stderr.String() }

// ChromiumPath is $CHROMIUM or Debian's /usr/bin/chromium. A missing
// browser fails the test: the dashboard must be checked in a real one.
func ChromiumPath(t testing.TB) string {
	p := os.Getenv("CHROMIUM")
	if p == "" {
		p = "/usr/bin/chromium"
	}
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("Chromium is not installed (%v): run `make test`, which installs Debian's chromium "+
			"(actors/eye/testdata/install-chromium.sh), or set CHROMIUM to a Chromium binary", err)
	}
	return p
}

// Screenshot captures the whole page of a tab, width CSS pixels wide, as PNG.
func (b *Browser) Screenshot(ctx context.Context, session string, width int) ([]byte, error) {
	var lm struct {
		CSSContentSize struct {
			Width, Height float64
		} `json:"cssContentSize"`
	}
	if err := b.Call(ctx, session, "Page.getLayoutMetrics", map[string]any{}, &lm); err != nil {
		return nil, err
	}
	var shot struct {
		Data string `json:"data"`
	}
	if err := b.Call(ctx, session, "Page.captureScreenshot", map[string]any{"format": "png", "captureBeyondViewport": true,
		"clip": map[string]any{"x": 0, "y": 0, "width": width, "height": lm.CSSContentSize.Height, "scale": 1}}, &shot); err != nil {
		return nil, err
	}
	return base64.StdEncoding.DecodeString(shot.Data)
}
