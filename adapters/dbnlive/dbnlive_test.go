package dbnlive

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"thunderline/adapters/dbn"
)

func TestAuthResponse(t *testing.T) {
	// sha256("abc|db-key12345") in hex, then the key's last five characters.
	got := AuthResponse("abc", "db-key12345")
	if len(got) != 64+1+5 || !strings.HasSuffix(got, "-12345") || got[64] != '-' {
		t.Fatalf("auth %q", got)
	}
	if AuthResponse("abd", "db-key12345") == got {
		t.Fatal("the challenge does not change the answer")
	}
}

func TestFields(t *testing.T) {
	f, err := Fields("success=1|session_id=42")
	if err != nil || f["success"] != "1" || f["session_id"] != "42" {
		t.Fatalf("%v %v", f, err)
	}
	for _, bad := range []string{"", "x", "=1", "a=1|b"} {
		if _, err := Fields(bad); !errors.Is(err, ErrProtocol) {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

// fakeGateway answers one client with script (what a gateway sends), and
// records what the client wrote.
func fakeGateway(t *testing.T, script string) (addr string, got chan string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	got = make(chan string, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		io.WriteString(c, script)
		c.SetReadDeadline(time.Now().Add(2 * time.Second))
		b, _ := io.ReadAll(io.LimitReader(c, 1<<16))
		got <- string(b)
	}()
	return ln.Addr().String(), got
}

// TestLyingGateways: every way a gateway can get the handshake wrong is an
// error naming it, never a hang or a panic.
func TestLyingGateways(t *testing.T) {
	f := func(name, script string, want error, inErr string) {
		t.Helper()
		addr, _ := fakeGateway(t, script)
		_, err := Dial(context.Background(), Config{Addr: addr, Key: "db-secretsecret00000SECRT", Dataset: "X", Schema: "mbo",
			Symbols: []string{"A"}, Timeout: 2 * time.Second})
		if err == nil || (want != nil && !errors.Is(err, want)) || !strings.Contains(err.Error(), inErr) {
			t.Errorf("%s: %v (want %v containing %q)", name, err, want, inErr)
		}
		if err != nil && strings.Contains(err.Error(), "secretsecret") {
			t.Errorf("%s: the key in an error: %v", name, err)
		}
	}
	f("no greeting", "cram=abc\n", ErrProtocol, "lsg_version")
	f("no challenge", "lsg_version=1\nsuccess=1\n", ErrProtocol, "cram")
	f("empty challenge", "lsg_version=1\ncram=\n", ErrProtocol, "empty challenge")
	f("refused", "lsg_version=1\ncram=abc\nsuccess=0|error=Authentication failed.\n", ErrAuth, "Authentication failed")
	f("overlong line", "lsg_version=1\ncram="+strings.Repeat("x", MaxLine+10)+"\n", ErrProtocol, "longer than")
	f("cut line", "lsg_version=1\ncram=ab", ErrProtocol, "cut off")
	f("garbage", "\x00\x01\x02\n", ErrProtocol, "not key=value")
	f("silence", "", nil, "lsg_version")
}

// TestClientAgainstServer: the client's handshake against the gateway,
// and the DBN stream it hands over decodes as the capture.
func TestClientAgainstServer(t *testing.T) {
	b, err := os.ReadFile("../../../shared/data/dbn/esh4-glbx-mdp3-20231224.mbo.dbn.zst")
	if err != nil {
		t.Fatal(err)
	}
	srv, err := NewServer("127.0.0.1:0", "db-keykeykey0000000000KEY01", "GLBX.MDP3", b)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	c, err := Dial(context.Background(), Config{Addr: srv.Addr(), Key: "db-keykeykey0000000000KEY01", Dataset: "GLBX.MDP3", Schema: "mbo",
		Symbols: []string{"ESH4"}})
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
	if n != srv.Records() || n != 8725 || c.SessionID != "1" {
		t.Fatalf("%d records of %d, session %q", n, srv.Records(), c.SessionID)
	}
	// The wrong dataset is refused.
	if _, err := Dial(context.Background(), Config{Addr: srv.Addr(), Key: "db-keykeykey0000000000KEY01", Dataset: "XNAS.ITCH",
		Schema: "mbo", Symbols: []string{"ESH4"}}); !errors.Is(err, ErrAuth) || !strings.Contains(err.Error(), "Unknown dataset") {
		t.Fatalf("wrong dataset: %v", err)
	}
}

// FuzzHandshake: whatever a gateway sends, the client's handshake ends
// with a session or an error, never a panic.
func FuzzHandshake(f *testing.F) {
	f.Add([]byte("lsg_version=1\ncram=abc\nsuccess=1|session_id=1\n"))
	f.Add([]byte("lsg_version=1\ncram=abc\nsuccess=0|error=no\n"))
	f.Add([]byte("x|y=\n\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		a, c := net.Pipe()
		go io.Copy(io.Discard, a) // what the client writes
		go func() {
			a.Write(b)
			a.Close()
		}()
		conn, err := handshake(c, Config{Key: "db-k0000", Dataset: "D", Schema: "mbo", Symbols: []string{"S"}, Timeout: time.Second})
		if err == nil {
			conn.Close()
		}
		c.Close()
	})
}
