package link

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"
)

// checkNoLeaks fails the test if, after its cleanups, more goroutines run than
// when it started. Call it first so its cleanup runs last. Goroutine exit has
// no event to wait on, so it polls the count until a deadline.
func checkNoLeaks(t *testing.T) {
	t.Helper()
	base := runtime.NumGoroutine()
	t.Cleanup(func() {
		deadline := time.Now().Add(5 * time.Second)
		for {
			n := runtime.NumGoroutine()
			if n <= base {
				return
			}
			if time.Now().After(deadline) {
				buf := make([]byte, 1<<20)
				buf = buf[:runtime.Stack(buf, true)]
				t.Errorf("goroutine leak: %d running, %d at start\n%s", n, base, buf)
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
	})
}

// waitFor polls cond until it holds or the deadline passes. For conditions
// with no event to wait on (counters changed by another goroutine).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// recv takes one event with a deadline.
func recv(t *testing.T, s *Subscription) (Event, bool) {
	t.Helper()
	select {
	case ev, ok := <-s.C():
		return ev, ok
	case <-time.After(5 * time.Second):
		t.Fatal("timed out waiting for an event")
	}
	return Event{}, false
}

// drain takes every queued event until the channel is closed (it must be).
func drainClosed(t *testing.T, s *Subscription) []Event {
	t.Helper()
	var out []Event
	for {
		ev, ok := recv(t, s)
		if !ok {
			return out
		}
		out = append(out, ev)
	}
}

// sseFrame is one dispatched SSE block, parsed as the HTML standard's
// EventSource parser does (field name up to ':', one leading space stripped
// from the value, data lines joined with "\n").
type sseFrame struct {
	ID       string
	HasID    bool
	Event    string
	Data     string
	HasData  bool
	Comments []string
}

func (f sseFrame) isComment() bool { return !f.HasData && !f.HasID && f.Event == "" }

// frameParser feeds lines and returns a frame at each blank line.
type frameParser struct {
	cur  sseFrame
	data strings.Builder
	any  bool
}

func (p *frameParser) line(l string) (sseFrame, bool) {
	if l == "" {
		if !p.any {
			return sseFrame{}, false
		}
		f := p.cur
		if f.HasData {
			f.Data = strings.TrimSuffix(p.data.String(), "\n")
		}
		p.cur, p.any = sseFrame{}, false
		p.data.Reset()
		return f, true
	}
	p.any = true
	if l[0] == ':' {
		p.cur.Comments = append(p.cur.Comments, strings.TrimPrefix(l[1:], " "))
		return sseFrame{}, false
	}
	field, value, _ := strings.Cut(l, ":")
	value = strings.TrimPrefix(value, " ")
	switch field {
	case "id":
		p.cur.ID, p.cur.HasID = value, true
	case "event":
		p.cur.Event = value
	case "data":
		p.cur.HasData = true
		p.data.WriteString(value)
		p.data.WriteByte('\n')
	}
	return sseFrame{}, false
}

// parseSSE parses a whole stream; lines end at "\r\n", "\r" or "\n".
func parseSSE(b []byte) []sseFrame {
	var p frameParser
	var out []sseFrame
	for len(b) > 0 {
		i := bytes.IndexAny(b, "\r\n")
		if i < 0 {
			break // an unterminated last line is never dispatched
		}
		l := string(b[:i])
		if b[i] == '\r' && i+1 < len(b) && b[i+1] == '\n' {
			i++
		}
		b = b[i+1:]
		if f, ok := p.line(l); ok {
			out = append(out, f)
		}
	}
	return out
}

// sseClient reads a live stream frame by frame (the server ends lines with
// "\n" only).
type sseClient struct {
	t    *testing.T
	resp *http.Response
	br   *bufio.Reader
	p    frameParser
}

// next returns the next frame, or io.EOF when the server ended the stream.
// The request's context bounds the wait.
func (c *sseClient) next() (sseFrame, error) {
	for {
		l, err := c.br.ReadString('\n')
		if err != nil {
			if errors.Is(err, io.EOF) && l == "" {
				return sseFrame{}, io.EOF
			}
			return sseFrame{}, err
		}
		if f, ok := c.p.line(strings.TrimSuffix(l, "\n")); ok {
			return f, nil
		}
	}
}

func (c *sseClient) mustNext() sseFrame {
	c.t.Helper()
	f, err := c.next()
	if err != nil {
		c.t.Fatalf("reading the stream: %v", err)
	}
	return f
}

// untilOK reads the replay: every frame before the ": ok" comment.
func (c *sseClient) untilOK() []sseFrame {
	c.t.Helper()
	var out []sseFrame
	for {
		f := c.mustNext()
		if f.isComment() && len(f.Comments) == 1 && f.Comments[0] == "ok" {
			return out
		}
		out = append(out, f)
	}
}

// dial opens a stream; the returned cancel disconnects it.
func dial(t *testing.T, client *http.Client, url string, hdr map[string]string) (*sseClient, context.CancelFunc) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := client.Do(req)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		cancel()
		t.Fatalf("status %d: %s", resp.StatusCode, b)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Errorf("Content-Type %q", ct)
	}
	c := &sseClient{t: t, resp: resp, br: bufio.NewReader(resp.Body)}
	return c, func() { cancel(); resp.Body.Close() }
}
