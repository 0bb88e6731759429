package dbnlive

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"thunderline/adapters/dbn"
	"thunderline/hotpath/record"
)

const esh4 = "../../../shared/data/dbn/esh4-glbx-mdp3-20231224.mbo.dbn.zst"

// TestAuthResponse: sha256("abc|db-key12345") (computed with Python's
// hashlib), "-", the key's last five characters.
func TestAuthResponse(t *testing.T) {
	want := "198e84f5de30cf77cfd9bfe72209857f966cceff478d2311e8ad1622cedec4c4-12345"
	if got := AuthResponse("abc", "db-key12345"); got != want {
		t.Fatalf("auth %q, want %q", got, want)
	}
	if BucketID("db-key12345") != "12345" || BucketID("abc") != "abc" {
		t.Fatal("bucket id")
	}
}

func TestFields(t *testing.T) {
	f, err := Fields("success=1|session_id=42|error=")
	if err != nil || f["success"] != "1" || f["session_id"] != "42" || len(f) != 3 {
		t.Fatalf("%v %v", f, err)
	}
	for _, bad := range []string{"", "x", "=1", "a=1|b", "a=1||b=2"} {
		if _, err := Fields(bad); !errors.Is(err, ErrProtocol) || !strings.Contains(err.Error(), "not key=value") {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

// TestSessionLines: the auth line and the subscription in Databento's
// current formats; 1,001 symbols go in three lines, the last is_last=1;
// start= only with a replay (start=0: all the gateway has).
func TestSessionLines(t *testing.T) {
	cfg := Config{Key: "db-key12345", Dataset: "GLBX.MDP3", Schema: "mbo", SType: "raw_symbol", Symbols: []string{"ESH4"}}
	if got, want := authLine("abc", cfg), "auth="+AuthResponse("abc", cfg.Key)+"|dataset=GLBX.MDP3|encoding=dbn|compression=none|ts_out=0|client=thunderline\n"; got != want {
		t.Fatalf("auth line %q, want %q", got, want)
	}
	cfg.Heartbeat = 10 * time.Second
	if got := authLine("abc", cfg); !strings.HasSuffix(got, "|heartbeat_interval_s=10\n") {
		t.Fatalf("auth line %q", got)
	}
	if got, want := subscriptionLines(cfg), "schema=mbo|stype_in=raw_symbol|symbols=ESH4|snapshot=0|is_last=1\nstart_session\n"; got != want {
		t.Fatalf("subscription %q, want %q", got, want)
	}
	cfg.Replay, cfg.Start = true, 0
	if got := subscriptionLines(cfg); !strings.HasPrefix(got, "schema=mbo|stype_in=raw_symbol|symbols=ESH4|snapshot=0|is_last=1|start=0\n") {
		t.Fatalf("replay subscription %q", got)
	}
	cfg.Symbols = make([]string, 1001)
	for i := range cfg.Symbols {
		cfg.Symbols[i] = "S"
	}
	lines := strings.Split(strings.TrimSuffix(subscriptionLines(cfg), "\n"), "\n")
	if len(lines) != 4 || lines[3] != "start_session" || strings.Count(lines[0], "S,") != 499 || !strings.Contains(lines[0], "is_last=0") ||
		!strings.Contains(lines[2], "|symbols=S|") || !strings.Contains(lines[2], "is_last=1") {
		t.Fatalf("%d lines: %q", len(lines), lines)
	}
}

// fakeGateway answers one client with script (what a gateway sends), then
// ends its side of the connection.
func fakeGateway(t *testing.T, script string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		io.WriteString(c, script)
		c.(*net.TCPConn).CloseWrite()
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		io.Copy(io.Discard, c)
	}()
	return ln.Addr().String()
}

const lyingKey = "db-secretsecret00000SECRT"

// TestLyingGateways: every way a gateway can get the handshake or the
// stream wrong is an error naming it, counted, never a hang or a panic,
// and never showing the key.
func TestLyingGateways(t *testing.T) {
	srv := newTestServer(t, esh4)
	ok := "lsg_version=1\ncram=abc\nsuccess=1|session_id=1\n"
	f := func(name, script string, want error, inErr string, refusal bool) {
		t.Helper()
		addr := fakeGateway(t, script)
		cfg := FeedConfig{Config: Config{Addr: addr, Key: lyingKey, Dataset: "X", Schema: "mbo", Symbols: []string{"A"}, Timeout: 5 * time.Second}}
		feed, err := StartFeed(context.Background(), cfg, record.NewSymbols())
		if err == nil {
			// The handshake and metadata passed: the error is in the records.
			_, err = feed.Next(make([]record.MarketTick, 64))
			for err == nil {
				_, err = feed.Next(make([]record.MarketTick, 64))
			}
			if feed.Stats.StreamErrors.Load() != 1 {
				t.Errorf("%s: stream errors %d", name, feed.Stats.StreamErrors.Load())
			}
		}
		if err == nil || (want != nil && !errors.Is(err, want)) || !strings.Contains(err.Error(), inErr) {
			t.Errorf("%s: %v (want %v containing %q)", name, err, want, inErr)
		}
		if err != nil && strings.Contains(err.Error(), "secretsecret") {
			t.Errorf("%s: the key in an error: %v", name, err)
		}
		if refusal != (errors.Is(err, ErrAuth) || errors.Is(err, ErrProtocol)) {
			t.Errorf("%s: %v: a refusal is ErrAuth or ErrProtocol, a broken link neither", name, err)
		}
	}
	f("no greeting", "cram=abc\n", ErrProtocol, "want the lsg_version line", true)
	f("no challenge", "lsg_version=1\nsuccess=1\n", ErrProtocol, "want the cram line", true)
	f("empty challenge", "lsg_version=1\ncram=\n", ErrProtocol, "empty challenge", true)
	f("refused", "lsg_version=1\ncram=abc\nsuccess=0|error=Authentication failed.\n", ErrAuth, "Authentication failed", true)
	f("refused without a reason", "lsg_version=1\ncram=abc\nsuccess=0\n", ErrAuth, "success=0 without an error", true)
	f("overlong line", "lsg_version=1\ncram="+strings.Repeat("x", MaxLine+10)+"\n", ErrProtocol, "longer than 4096", true)
	f("cut line", "lsg_version=1\ncram=ab", ErrProtocol, "cut off after 7 bytes", true)
	f("garbage line", "\x00\x01\x02\n", ErrProtocol, "not key=value", true)
	f("silence", "", io.EOF, "waiting for the lsg_version line", false)
	f("no answer to auth", "lsg_version=1\ncram=abc\n", io.EOF, "waiting for the success line", false)
	f("not DBN", ok+"HTTP/1.1 400 Bad Request\r\n\r\n", dbn.ErrBadMagic, "metadata", false)
	f("cut metadata", ok+string(srv.meta[:40]), dbn.ErrTruncated, "metadata", false)
	f("garbage record", ok+string(srv.meta)+"\x01\xa0\x00\x00garbage garbage", dbn.ErrBadRecord, "not DBN", false)
}

// newTestServer serves the capture file with a fixed key.
func newTestServer(t *testing.T, file string) *Server {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := NewServer("127.0.0.1:0", testKey, "GLBX.MDP3", b)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv
}

const testKey = "db-keykeykey0000000000KEY01"

// TestClientAgainstServer: the client's handshake against the gateway,
// and the DBN stream it hands over decodes as the capture.
func TestClientAgainstServer(t *testing.T) {
	srv := newTestServer(t, esh4)
	c, err := Dial(context.Background(), Config{Addr: srv.Addr(), Key: testKey, Dataset: "GLBX.MDP3", Schema: "mbo", Symbols: []string{"ESH4"}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	r, err := dbn.NewReader(bufio.NewReader(c.Stream))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for {
		if _, err := r.Next(); err != nil {
			if !errors.Is(err, io.EOF) {
				t.Fatal(err)
			}
			break
		}
		n++
	}
	if n != srv.Records() || n != 8725 || c.SessionID != "1" || c.Version != "0.0.0-thunderline" {
		t.Fatalf("%d records of %d, session %q, version %q", n, srv.Records(), c.SessionID, c.Version)
	}
}

// TestServerRefuses: the gateway refuses a wrong key or dataset and
// options it does not serve with success=0 and a reason, and a
// subscription that is not one; each counted.
func TestServerRefuses(t *testing.T) {
	srv := newTestServer(t, esh4)
	f := func(name string, auth func(cram string) string, sub, wantLine string) {
		t.Helper()
		c, err := net.Dial("tcp", srv.Addr())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(10 * time.Second))
		br := bufio.NewReader(c)
		readLine(br)
		line, _ := readLine(br)
		io.WriteString(c, auth(strings.TrimPrefix(line, "cram="))+"\n"+sub)
		reply, _ := readLine(br)
		if !strings.Contains(reply, wantLine) {
			t.Errorf("%s: reply %q, want %q", name, reply, wantLine)
		}
		io.Copy(io.Discard, br) // the gateway closes
	}
	auth := func(extra string) func(string) string {
		return func(cram string) string {
			return "auth=" + AuthResponse(cram, testKey) + "|dataset=GLBX.MDP3|encoding=dbn" + extra
		}
	}
	f("wrong key", func(cram string) string { return "auth=" + AuthResponse(cram, "db-wrong") + "|dataset=GLBX.MDP3" }, "", "success=0|error=Authentication failed.")
	f("wrong dataset", func(cram string) string { return "auth=" + AuthResponse(cram, testKey) + "|dataset=XNAS.ITCH" }, "", "Unknown dataset XNAS.ITCH")
	f("compression", auth("|compression=zstd"), "", "Unsupported compression zstd")
	f("ts_out", auth("|ts_out=1"), "", "ts_out is not served")
	f("not key=value", func(string) string { return "hello" }, "", "Malformed authentication request")
	f("no schema", auth(""), "symbols=ESH4\nstart_session\n", "success=1")
	f("bad start", auth(""), "schema=mbo|symbols=ESH4|start=yesterday\nstart_session\n", "success=1")
	f("no subscription", auth(""), "start_session\n", "success=1")
	if srv.Refused.Load() != 8 || srv.Sessions.Load() != 0 {
		t.Fatalf("refused %d, sessions %d", srv.Refused.Load(), srv.Sessions.Load())
	}
}

// TestReadLine: lines end at '\n' (a '\r' before it dropped); an
// unterminated or overlong line is an error saying which.
func TestReadLine(t *testing.T) {
	br := bufio.NewReaderSize(bytes.NewReader([]byte("a=1\r\nb=2\n\nc=")), 16)
	for _, want := range []string{"a=1", "b=2", ""} {
		if got, err := readLine(br); got != want || err != nil {
			t.Fatalf("%q %v, want %q", got, err, want)
		}
	}
	if _, err := readLine(br); !errors.Is(err, ErrProtocol) || !strings.Contains(err.Error(), "cut off after 2 bytes") {
		t.Fatal(err)
	}
	if _, err := readLine(br); err != io.EOF {
		t.Fatal(err)
	}
	br = bufio.NewReaderSize(strings.NewReader(strings.Repeat("x", MaxLine)+"\n"+strings.Repeat("y", MaxLine+1)+"\n"), 16)
	if got, err := readLine(br); len(got) != MaxLine || err != nil {
		t.Fatalf("%d bytes, %v", len(got), err)
	}
	if _, err := readLine(br); !errors.Is(err, ErrProtocol) || !strings.Contains(err.Error(), "longer than") {
		t.Fatal(err)
	}
}
