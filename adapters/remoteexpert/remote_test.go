package remoteexpert

import (
	"bufio"
	"encoding/binary"
	"io"
	"math"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"thunderline/hotpath/expert"
	"thunderline/hotpath/window"
)

// echoExpert is the model of testdata/echo_server.py, in Go.
type echoExpert struct {
	name    string
	in, out int
	block   chan struct{} // if set, Eval waits for it to close
	panicOn uint32        // if non-zero, Eval panics for this symbol
}

func (e *echoExpert) Name() string { return e.name }
func (e *echoExpert) Kind() string { return "echo" }
func (e *echoExpert) InDim() int   { return e.in }
func (e *echoExpert) OutDim() int  { return e.out }
func (e *echoExpert) Eval(in *expert.Input, out *expert.Output) {
	if e.block != nil {
		<-e.block
	}
	if e.panicOn != 0 && in.Symbol == e.panicOn {
		panic("echo: asked to panic")
	}
	if in.End < 0 {
		out.SetAbstain()
		return
	}
	out.Confidence = float32(float64(in.Symbol%1000) / 1000)
	out.Abstain = false
	if e.out == 0 {
		out.Scores = [3]float32{0, 0, 1}
		if len(in.Embedding) >= 3 {
			copy(out.Scores[:], in.Embedding[:3])
		}
		return
	}
	out.Scores = [3]float32{}
	nd, nf := len(in.Embedding), len(in.Features)
	for j := range e.out {
		var s float64
		if nd > 0 {
			s += float64(in.Embedding[j%nd])
		}
		if nf > 0 {
			s += in.Features[j%nf]
		}
		out.Hidden[j] = float32(s)
	}
}

// sockDir is a short directory for sockets (a unix socket path must stay
// under about 100 bytes, which t.TempDir can exceed).
func sockDir(t testing.TB) string {
	d, err := os.MkdirTemp("", "rx")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(d) })
	return d
}

// startGo serves e on a fresh unix socket in dir.
func startGo(t testing.TB, path string, e expert.Expert) *Server {
	t.Helper()
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	srv := NewServer(e)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	t.Cleanup(func() {
		srv.Close()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return srv
}

// startEcho serves the echo expert (dims in→out) at path, from the
// in-process Go server or the Python one (server "go" or "python"); stop
// takes it down before the test ends.
func startEcho(tb testing.TB, server, path string, in, out int) (stop func()) {
	tb.Helper()
	if server == "go" {
		srv := startGo(tb, path, &echoExpert{name: "echo", in: in, out: out})
		return func() { srv.Close() }
	}
	return startPython(tb, path, in, out, 0).kill
}

// echoClient starts the echo expert (dims in→out) with startEcho on a
// fresh socket and returns a client connected to it (deadline 5 s).
func echoClient(tb testing.TB, server string, in, out int) *Client {
	tb.Helper()
	path := filepath.Join(sockDir(tb), "s")
	startEcho(tb, server, path, in, out)
	c := newClient(tb, Config{Name: "remote-echo", Addr: path, InDim: in, OutDim: out, Deadline: 5 * time.Second})
	if err := c.Connect(5 * time.Second); err != nil {
		tb.Fatal(err)
	}
	return c
}

// pyServer is a running testdata/echo_server.py.
type pyServer struct {
	cmd  *exec.Cmd
	once sync.Once
}

func (p *pyServer) kill() {
	p.once.Do(func() {
		p.cmd.Process.Kill()
		p.cmd.Wait()
	})
}

// startPython runs the Python echo server and waits (10 s at most) until it
// says it listens.
func startPython(t testing.TB, path string, in, out, delayMs int) *pyServer {
	t.Helper()
	cmd := exec.Command("python3", "testdata/echo_server.py", "--socket", path,
		"--in", strconv.Itoa(in), "--out", strconv.Itoa(out), "--delay-ms", strconv.Itoa(delayMs))
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start python3 echo_server.py: %v", err)
	}
	p := &pyServer{cmd: cmd}
	t.Cleanup(p.kill)
	ready := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(stdout).ReadString('\n')
		ready <- line
		io.Copy(io.Discard, stdout)
	}()
	select {
	case line := <-ready:
		if strings.TrimSpace(line) != "ready" {
			t.Fatalf("echo_server.py said %q, want ready", line)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("echo_server.py not ready after 10 s")
	}
	return p
}

func newClient(t testing.TB, cfg Config) *Client {
	t.Helper()
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func features(v ...float64) []float64 {
	f := make([]float64, window.NumFeatures)
	copy(f, v)
	return f
}

type rtCase struct {
	name string
	in   expert.Input
}

// roundTripCases: inputs for a head (in 3) or a hidden expert (in 4).
func roundTripCases(in int) []rtCase {
	emb := func(v ...float32) []float32 { return v[:in] }
	return []rtCase{
		{"plain", expert.Input{Features: features(0.001, 2.5, -0.3), Embedding: emb(0.2, 0.3, 0.5, 1.25), Symbol: 17, End: 1_700_000_000_000_000_000}},
		{"symbol wraps", expert.Input{Features: features(-1e-9), Embedding: emb(0.5, 0.5, 0, -7), Symbol: 123456, End: 5}},
		{"abstain", expert.Input{Features: features(1), Embedding: emb(0.1, 0.1, 0.8, 0), Symbol: 1, End: -1}},
		{"no features", expert.Input{Embedding: emb(1, 0, 0, 3.5), Symbol: 999, End: 0}},
	}
}

func sameOutput(a, b *expert.Output) bool {
	if a.Abstain != b.Abstain || math.Float32bits(a.Confidence) != math.Float32bits(b.Confidence) {
		return false
	}
	for k := range a.Scores {
		if math.Float32bits(a.Scores[k]) != math.Float32bits(b.Scores[k]) {
			return false
		}
	}
	for j := range a.Hidden {
		if math.Float32bits(a.Hidden[j]) != math.Float32bits(b.Hidden[j]) {
			return false
		}
	}
	return len(a.Hidden) == len(b.Hidden)
}

func TestRoundTrip(t *testing.T) {
	modes := []struct {
		name    string
		in, out int
	}{{"head", 3, 0}, {"hidden", 4, 5}}
	for _, server := range []string{"go", "python"} {
		for _, m := range modes {
			t.Run(server+"/"+m.name, func(t *testing.T) {
				ref := &echoExpert{name: "echo", in: m.in, out: m.out}
				c := echoClient(t, server, m.in, m.out)
				for _, tc := range roundTripCases(m.in) {
					got := expert.Output{Hidden: make([]float32, m.out)}
					want := expert.Output{Hidden: make([]float32, m.out)}
					c.Eval(&tc.in, &got)
					ref.Eval(&tc.in, &want)
					if !sameOutput(&got, &want) {
						t.Errorf("%s: got %+v, want %+v", tc.name, got, want)
					}
				}
				st := c.Stats()
				if st.Calls != 4 || st.OK != 4 || st.RemoteAbstain != 1 || st.Misses != 0 || st.Connects != 1 {
					t.Errorf("stats %+v", st)
				}
			})
		}
	}
}

// checkMissWithin: one call abstains for cause within deadline + slack.
func checkMissWithin(t *testing.T, c *Client, in *expert.Input, cause Cause) {
	t.Helper()
	const slack = 2 * time.Second // generous: a loaded CI machine, never a flake
	var out expert.Output
	start := time.Now()
	c.Eval(in, &out)
	took := time.Since(start)
	if !out.Abstain {
		t.Fatalf("call did not abstain: %+v", out)
	}
	if lim := c.Config().Deadline + slack; took > lim {
		t.Fatalf("call took %v, over deadline + slack %v", took, lim)
	}
	if n := c.Misses(cause); n != 1 {
		t.Fatalf("%s misses = %d, want 1 (stats %+v)", cause, n, c.Stats())
	}
}

func TestDeadline(t *testing.T) {
	in := &expert.Input{Features: features(0), Embedding: []float32{0.2, 0.3, 0.5}, Symbol: 3}
	t.Run("go", func(t *testing.T) {
		path := filepath.Join(sockDir(t), "s")
		block := make(chan struct{})
		startGo(t, path, &echoExpert{name: "slow", in: 3, block: block})
		t.Cleanup(func() { close(block) }) // runs before the server's Close
		c := newClient(t, Config{Name: "slow", Addr: path, InDim: 3, Deadline: 100 * time.Millisecond})
		if err := c.Connect(5 * time.Second); err != nil {
			t.Fatal(err)
		}
		checkMissWithin(t, c, in, CauseTimeout)
	})
	t.Run("python", func(t *testing.T) {
		path := filepath.Join(sockDir(t), "s")
		startPython(t, path, 3, 0, 5000)
		c := newClient(t, Config{Name: "slow", Addr: path, InDim: 3, Deadline: 100 * time.Millisecond})
		if err := c.Connect(5 * time.Second); err != nil {
			t.Fatal(err)
		}
		checkMissWithin(t, c, in, CauseTimeout)
		if st := c.Stats(); !strings.Contains(st.LastError, "timeout") {
			t.Errorf("last error %q", st.LastError)
		}
	})
}

// waitAnswer calls Eval until the model answers, for at most 10 s. The
// reconnect happens inside Eval once the backoff has passed, so this polls
// (every millisecond) rather than sleeping for a guessed time.
func waitAnswer(t *testing.T, c *Client, in *expert.Input, out *expert.Output) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c.Eval(in, out)
		if !out.Abstain {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no answer within 10 s: %+v", c.Stats())
		}
		<-time.After(time.Millisecond)
	}
}

func TestReconnect(t *testing.T) {
	in := &expert.Input{Features: features(0), Embedding: []float32{0.2, 0.3, 0.5}, Symbol: 250}
	cfg := Config{Name: "r", InDim: 3, Deadline: 2 * time.Second, BackoffMin: time.Millisecond, BackoffMax: 20 * time.Millisecond}
	for _, server := range []string{"go", "python"} {
		t.Run(server, func(t *testing.T) {
			path := filepath.Join(sockDir(t), "s")
			stop := startEcho(t, server, path, 3, 0)
			cfg.Addr = path
			c := newClient(t, cfg)
			var out expert.Output
			c.Eval(in, &out)
			if out.Abstain || out.Confidence != 0.25 {
				t.Fatalf("first call: %+v (stats %+v)", out, c.Stats())
			}
			stop() // killed: the connection breaks
			c.Eval(in, &out)
			if !out.Abstain || c.Misses(CauseConn) == 0 {
				t.Fatalf("call after kill: %+v, stats %+v", out, c.Stats())
			}
			if server == "go" {
				os.Remove(path) // the Go listener removes its socket on close; make sure
			}
			startEcho(t, server, path, 3, 0)
			waitAnswer(t, c, in, &out)
			if out.Confidence != 0.25 {
				t.Fatalf("after reconnect: %+v", out)
			}
			st := c.Stats()
			if st.Connects != 2 || st.OK != 2 {
				t.Fatalf("stats after reconnect %+v", st)
			}
		})
	}
}

func TestHandshakeMismatch(t *testing.T) {
	path := filepath.Join(sockDir(t), "s")
	startGo(t, path, &echoExpert{name: "echo", in: 3})
	c := newClient(t, Config{Name: "m", Addr: path, InDim: 3, OutDim: 4, Deadline: 5 * time.Second})
	out := expert.Output{Hidden: make([]float32, 4)}
	c.Eval(&expert.Input{Embedding: []float32{1, 2, 3}}, &out)
	if !out.Abstain || c.Misses(CauseHandshake) != 1 || !strings.Contains(c.Stats().LastError, "dims 3→0") {
		t.Fatalf("out %+v stats %+v", out, c.Stats())
	}
	// The next call waits for the backoff.
	c.Eval(&expert.Input{Embedding: []float32{1, 2, 3}}, &out)
	if !out.Abstain || c.Misses(CauseBackoff) != 1 {
		t.Fatalf("out %+v stats %+v", out, c.Stats())
	}
}

func TestBadInputAndClose(t *testing.T) {
	path := filepath.Join(sockDir(t), "s")
	startGo(t, path, &echoExpert{name: "echo", in: 3})
	c := newClient(t, Config{Name: "b", Addr: path, InDim: 3, Deadline: 5 * time.Second})
	var out expert.Output
	c.Eval(&expert.Input{Embedding: []float32{1}}, &out)
	if !out.Abstain || c.Misses(CauseBadInput) != 1 {
		t.Fatalf("short embedding: %+v %+v", out, c.Stats())
	}
	c.Eval(&expert.Input{Embedding: []float32{0, 0, 1}, Symbol: 500}, &out)
	if out.Abstain || out.Confidence != 0.5 {
		t.Fatalf("bad input broke the client: %+v %+v", out, c.Stats())
	}
	c.Close()
	c.Eval(&expert.Input{Embedding: []float32{0, 0, 1}}, &out)
	if !out.Abstain || c.Misses(CauseClosed) != 1 {
		t.Fatalf("after close: %+v %+v", out, c.Stats())
	}
}

func TestServerPanicAbstains(t *testing.T) {
	path := filepath.Join(sockDir(t), "s")
	startGo(t, path, &echoExpert{name: "p", in: 3, panicOn: 66})
	c := newClient(t, Config{Name: "p", Addr: path, InDim: 3, Deadline: 5 * time.Second})
	var out expert.Output
	c.Eval(&expert.Input{Embedding: []float32{0, 1, 0}, Symbol: 66}, &out)
	if !out.Abstain {
		t.Fatalf("panicking model: %+v", out)
	}
	c.Eval(&expert.Input{Embedding: []float32{0, 1, 0}, Symbol: 67}, &out)
	if out.Abstain || out.Scores != [3]float32{0, 1, 0} {
		t.Fatalf("after panic: %+v", out)
	}
	if st := c.Stats(); st.Connects != 1 || st.RemoteAbstain != 1 || st.Misses != 0 {
		t.Fatalf("stats %+v", st)
	}
}

// TestBadReply: a server that answers the handshake and then sends a reply
// for another request id.
func TestBadReply(t *testing.T) {
	path := filepath.Join(sockDir(t), "s")
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		defer conn.Close()
		var hdr [4]byte
		io.ReadFull(conn, hdr[:])
		io.ReadFull(conn, make([]byte, binary.LittleEndian.Uint32(hdr[:])))
		conn.Write(appendHelloReply(nil, "liar", 3, 0))
		io.ReadFull(conn, hdr[:])
		io.ReadFull(conn, make([]byte, binary.LittleEndian.Uint32(hdr[:])))
		out := expert.Output{Scores: [3]float32{0, 0, 1}}
		conn.Write(putReply(make([]byte, 4+replyLen(0)), 999, &out, 0))
		io.Copy(io.Discard, conn)
	}()
	c := newClient(t, Config{Name: "l", Addr: path, InDim: 3, Deadline: 5 * time.Second})
	var out expert.Output
	c.Eval(&expert.Input{Embedding: []float32{0, 0, 1}}, &out)
	if !out.Abstain || c.Misses(CauseBadReply) != 1 || !strings.Contains(c.Stats().LastError, "id") {
		t.Fatalf("out %+v stats %+v", out, c.Stats())
	}
}

// TestClientAllocs: the client's normal path allocates nothing. Against the
// Python server (another process) the count is the client's alone; against
// the in-process Go server it includes the server's side of the call.
func TestClientAllocs(t *testing.T) {
	for _, server := range []string{"go", "python"} {
		t.Run(server, func(t *testing.T) {
			c := echoClient(t, server, 4, 8)
			in := &expert.Input{Features: features(0.5, 1), Embedding: []float32{1, 2, 3, 4}, Symbol: 9, End: 1}
			out := &expert.Output{Hidden: make([]float32, 8)}
			c.Eval(in, out) // warm up
			n := testing.AllocsPerRun(200, func() { c.Eval(in, out) })
			if n != 0 {
				t.Errorf("%v allocs per call", n)
			}
			if st := c.Stats(); st.Misses != 0 {
				t.Fatalf("stats %+v", st)
			}
		})
	}
}

func TestConfigValidate(t *testing.T) {
	cases := []struct {
		cfg   Config
		field string
	}{
		{Config{Addr: "x"}, "name"},
		{Config{Name: "n"}, "addr"},
		{Config{Name: "n", Addr: "x", Network: "udp"}, "network"},
		{Config{Name: "n", Addr: "x", InDim: -1}, "in_dim"},
		{Config{Name: "n", Addr: "x", OutDim: 1 << 30}, "out_dim"},
		{Config{Name: "n", Addr: "x", Deadline: -1}, "deadline"},
		{Config{Name: "n", Addr: "x", BackoffMin: time.Second, BackoffMax: time.Millisecond}, "backoff_max"},
	}
	for _, c := range cases {
		if err := c.cfg.Validate(); err == nil || !strings.HasPrefix(err.Error(), c.field) {
			t.Errorf("%+v: err = %v, want one about %s", c.cfg, err, c.field)
		}
	}
	c, err := New(Config{Name: "n", Addr: "/x"})
	if err != nil {
		t.Fatal(err)
	}
	if cfg := c.Config(); cfg.Network != "unix" || cfg.Deadline != defaultDeadline || cfg.BackoffMax != defaultBackoffMax {
		t.Errorf("defaults %+v", cfg)
	}
}
