package eye

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

func counterValue(t *testing.T, reg *prometheus.Registry, name, label string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	sum := 0.0
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if label == "" || l.GetValue() == label {
					sum += m.GetCounter().GetValue()
				}
			}
		}
	}
	return sum
}

func openFDs(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

// TestConnectionFlood: 20,000 unauthenticated keep-alive connections, each
// after a public GET /healthz, held open. The server keeps at most
// MaxConns: the oldest idle one is closed to make room (counted), so its
// file descriptors stay bounded and an operator's request is answered
// during and after the flood. (The test's side closes a connection once
// the server has: the process holds both ends.)
func TestConnectionFlood(t *testing.T) {
	reg := prometheus.NewRegistry()
	e := startEnv(t, func(o *Options) { o.Registerer = reg })
	addr := strings.TrimPrefix(e.url, "http://")
	before := openFDs(t)
	var held []net.Conn
	sweep := func() {
		kept := held[:0]
		for _, c := range held {
			c.SetReadDeadline(time.Now().Add(time.Microsecond))
			if _, err := c.Read(make([]byte, 1)); err == io.EOF || (err != nil && !isTimeout(err)) {
				c.Close()
				continue
			}
			kept = append(kept, c)
		}
		held = kept
	}
	defer func() {
		for _, c := range held {
			c.Close()
		}
	}()
	maxFDs, refusedSeen := 0, 0
	const flood = 20_000
	for i := range flood {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatalf("connection %d: %v", i, err)
		}
		fmt.Fprintf(c, "GET /healthz HTTP/1.1\r\nHost: %s\r\n\r\n", addr)
		res, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			// Refused while every connection was busy: must be counted.
			refusedSeen++
			c.Close()
			continue
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		held = append(held, c) // idle keep-alive from here on
		if i%1000 == 999 {
			sweep()
			maxFDs = max(maxFDs, openFDs(t))
			if r := e.do("GET", "/summary", e.tokens[RoleReadOnly], nil); r.status != 200 {
				t.Fatalf("during the flood (%d connections): /summary %d", i+1, r.status)
			}
		}
	}
	sweep()
	if r := e.do("GET", "/summary", e.tokens[RoleReadOnly], nil); r.status != 200 {
		t.Fatalf("after the flood: /summary %d", r.status)
	}
	// Both ends of at most MaxConns connections, the unswept batch, slack.
	if limit := before + 2*256 + 2*1000 + 64; maxFDs > limit {
		t.Fatalf("%d file descriptors open during the flood (before: %d, limit %d)", maxFDs, before, limit)
	}
	if ev := counterValue(t, reg, "thunderline_admin_connections_refused_total", "evicted_idle"); ev < flood-256-float64(refusedSeen) {
		t.Fatalf("%v idle connections evicted, want at least %d", ev, flood-256-refusedSeen)
	}
	if busy := counterValue(t, reg, "thunderline_admin_connections_refused_total", "busy"); busy != float64(refusedSeen) {
		t.Fatalf("the client saw %d connections refused, the server counted %v", refusedSeen, busy)
	}
}

func isTimeout(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}

// TestConnectionsBusy: when every connection is busy (none idle to evict)
// a new one is refused at once, and counted.
func TestConnectionsBusy(t *testing.T) {
	reg := prometheus.NewRegistry()
	e := startEnv(t, func(o *Options) { o.Registerer = reg; o.MaxConns = 4; o.MaxStreams = 2 })
	addr := strings.TrimPrefix(e.url, "http://")
	var busy []net.Conn
	for range 4 { // half a request each: active, not idle
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		fmt.Fprintf(c, "GET /healthz HTTP/1.1\r\n")
		busy = append(busy, c)
	}
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "GET /healthz HTTP/1.1\r\nHost: %s\r\n\r\n", addr)
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, err := c.Read(make([]byte, 64)); err == nil {
		t.Fatalf("a fifth connection was served (%d bytes) over MaxConns 4", n)
	}
	for deadline := time.Now().Add(10 * time.Second); counterValue(t, reg, "thunderline_admin_connections_refused_total", "busy") < 1; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the refused connection was not counted")
		}
	}
	// Finish one request: its connection goes idle, and a new one takes its place.
	fmt.Fprintf(busy[0], "Host: %s\r\n\r\n", addr)
	if _, err := http.ReadResponse(bufio.NewReader(busy[0]), nil); err != nil {
		t.Fatal(err)
	}
	// On a new connection, until the server has seen busy[0] go idle (its
	// state changes after the response is written, so a client can read the
	// response first and a connection right then is still refused; the
	// client's pooled connection from startEnv was the idle one the busy
	// ones evicted). Without eviction this is never served.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		e.client.CloseIdleConnections()
		res, err := e.client.Get(e.url + "/healthz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode != 200 {
				t.Fatalf("after one went idle: %d", res.StatusCode)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after one went idle, a new connection is still refused: %v", err)
		}
	}
}

// TestHostHeader: a Host that is not this server's (what a DNS-rebinding
// page sends) gets 421; IP addresses, localhost and AllowedHosts pass.
func TestHostHeader(t *testing.T) {
	e := startEnv(t, func(o *Options) { o.AllowedHosts = []string{"admin.internal"} })
	for host, want := range map[string]int{
		"evil.example": 421, "evil.example:8470": 421, "127.0.0.1.evil.example": 421,
		"localhost": 200, "LOCALHOST:1": 200, "127.0.0.1:8470": 200, "[::1]:8470": 200, "admin.internal": 200,
	} {
		req, _ := http.NewRequest("GET", e.url+"/healthz", nil)
		req.Host = host
		res, err := e.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != want {
			t.Errorf("Host %q: %d, want %d (%s)", host, res.StatusCode, want, b)
		}
		if want == 421 {
			checkError(t, "Host "+host, resp{status: res.StatusCode, header: res.Header, body: b}, 421, "misdirected")
		}
	}
}

// TestStreamCap: MaxStreams concurrent /stream requests; one more gets 503
// (counted) until one ends.
func TestStreamCap(t *testing.T) {
	reg := prometheus.NewRegistry()
	e := startEnv(t, func(o *Options) { o.Registerer = reg; o.MaxStreams = 2 })
	ctx, cancel := context.WithCancel(context.Background())
	hdr := map[string]string{"Authorization": "Bearer " + e.tokens[RoleReadOnly]}
	openStream(t, ctx, e.url+"/stream", hdr)
	openStream(t, context.Background(), e.url+"/stream", hdr)
	r := e.do("GET", "/stream", e.tokens[RoleReadOnly], nil)
	checkError(t, "third stream", r, 503, "unavailable")
	if v := counterValue(t, reg, "thunderline_admin_connections_refused_total", "streams"); v != 1 {
		t.Fatalf("refused streams counted %v", v)
	}
	cancel() // the first stream ends: its slot is free again
	for e.do("GET", "/stream", e.tokens[RoleReadOnly], nil).status != 200 {
		time.Sleep(5 * time.Millisecond)
	}
}
