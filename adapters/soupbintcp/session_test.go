package soupbintcp

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

func msgFor(seq uint64) []byte {
	return fmt.Appendf(nil, "message %d %s", seq, strings.Repeat("x", int(seq%50)))
}

func startServer(t *testing.T, n int, cfg ServerConfig) (*Server, *Log) {
	t.Helper()
	log := NewLog("S1")
	for i := range n {
		if _, err := log.Append(msgFor(uint64(i + 1))); err != nil {
			t.Fatal(err)
		}
	}
	cfg.Log = log
	if cfg.Users == nil {
		cfg.Users = map[string]string{"alice": "secret"}
	}
	s, err := Listen("127.0.0.1:0", cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, log
}

// TestLogin: a good login is accepted into the session at the sequence
// number asked for; a wrong password and an unknown session are rejected,
// each with its reason.
func TestLogin(t *testing.T) {
	s, _ := startServer(t, 10, ServerConfig{})
	ctx := context.Background()
	c, err := Dial(ctx, ClientConfig{Addr: s.Addr(), Username: "alice", Password: "secret", Next: 4})
	if err != nil {
		t.Fatal(err)
	}
	if c.Session() != "S1" || c.Next() != 4 {
		t.Fatalf("accepted into %q at %d", c.Session(), c.Next())
	}
	c.Logout()
	for _, tc := range []struct {
		cfg  ClientConfig
		want string
	}{
		{ClientConfig{Username: "alice", Password: "wrong"}, "not authorized"},
		{ClientConfig{Username: "mallory", Password: "secret"}, "not authorized"},
		{ClientConfig{Username: "alice", Password: "secret", Session: "OTHER"}, "session not available"},
	} {
		tc.cfg.Addr = s.Addr()
		_, err := Dial(ctx, tc.cfg)
		if !errors.Is(err, ErrRejected) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("login %+v: %v, want a rejection saying %q", tc.cfg, err, tc.want)
		}
	}
	if s.Stats.Rejected.Load() != 3 || s.Stats.Logins.Load() != 1 {
		t.Fatalf("server counted %d logins, %d rejections", s.Stats.Logins.Load(), s.Stats.Rejected.Load())
	}
}

// TestFollowResumes: a client follows a live session while the server cuts
// every connection several times; it reconnects at its next sequence
// number and gets every message exactly once, in order, then the end of
// the session.
func TestFollowResumes(t *testing.T) {
	const total = 20_000
	s, log := startServer(t, 0, ServerConfig{Heartbeat: 20 * time.Millisecond})
	var got []uint64
	var mu sync.Mutex
	st := &Stats{}
	done := make(chan error, 1)
	go func() {
		done <- Follow(context.Background(), ClientConfig{Addr: s.Addr(), Username: "alice", Password: "secret", Heartbeat: 20 * time.Millisecond},
			st, func(seq uint64, msg []byte) {
				if !bytes.Equal(msg, msgFor(seq)) {
					panic(fmt.Sprintf("message %d: %q", seq, msg))
				}
				mu.Lock()
				got = append(got, seq)
				mu.Unlock()
			})
	}()
	drops := 0
	for i := 1; i <= total; i++ {
		if _, err := log.Append(msgFor(uint64(i))); err != nil {
			t.Fatal(err)
		}
		if i%4000 == 0 {
			// Let the client get part of it, then cut the link.
			for st.Messages.Load() < uint64(i-2000) {
				time.Sleep(time.Millisecond)
			}
			s.DropAll()
			drops++
		}
	}
	log.End()
	if err := <-done; !errors.Is(err, ErrEnded) {
		t.Fatalf("Follow ended with %v", err)
	}
	if len(got) != total {
		t.Fatalf("got %d messages, want %d", len(got), total)
	}
	for i, seq := range got {
		if seq != uint64(i+1) {
			t.Fatalf("message %d has sequence number %d", i+1, seq)
		}
	}
	if st.Reconnects.Load() < uint64(drops) || st.Logins.Load() < uint64(drops+1) {
		t.Fatalf("%d drops, %d reconnects, %d logins", drops, st.Reconnects.Load(), st.Logins.Load())
	}
}

// TestHeartbeats: on an idle session both sides send heartbeats; a server
// that goes silent is declared dead after the client's timeout.
func TestHeartbeats(t *testing.T) {
	s, _ := startServer(t, 3, ServerConfig{Heartbeat: 10 * time.Millisecond})
	c, err := Dial(context.Background(), ClientConfig{Addr: s.Addr(), Username: "alice", Password: "secret", Heartbeat: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		for c.Stats.Beats.Load() < 3 || s.Stats.BeatsIn.Load() < 3 {
			time.Sleep(5 * time.Millisecond)
		}
		cancel()
	}()
	n := 0
	err = c.Run(ctx, func(uint64, []byte) { n++ })
	if !errors.Is(err, context.Canceled) || n != 3 {
		t.Fatalf("Run: %v after %d messages", err, n)
	}

	// A server that accepts the login and then says nothing.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
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
		ReadPacket(conn, nil)
		conn.Write(AppendAccepted(nil, "S1", 1))
		time.Sleep(5 * time.Second)
	}()
	c, err = Dial(context.Background(), ClientConfig{Addr: ln.Addr().String(), Timeout: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Run(context.Background(), func(uint64, []byte) {}); !errors.Is(err, ErrTimeout) {
		t.Fatalf("silent server: %v, want ErrTimeout", err)
	}
}

// TestProtocolErrors: what the peer may not send is refused by name.
func TestProtocolErrors(t *testing.T) {
	for _, tc := range []struct {
		name   string
		server []byte
		want   string
	}{
		{"zero length", []byte{0, 0}, "length 0"},
		{"short accept", AppendPacket(nil, LoginAccepted, []byte("S1")), "login accepted of 2 bytes"},
		{"bad number", AppendPacket(nil, LoginAccepted, []byte("        S1"+"12345678901234567x90")), "not a number"},
		{"data before login", AppendPacket(nil, SequencedData, []byte("hi")), "before the login was answered"},
		{"cut packet", []byte{0, 50, 'A', 'x'}, "closed inside"},
		{"unknown type after login", append(AppendAccepted(nil, "S1", 1), AppendPacket(nil, 'Q', nil)...), "unexpected packet type"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := clientAgainst(tc.server)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("%v, want an error saying %q", err, tc.want)
			}
		})
	}
	if _, err := NewLog("S").Append(make([]byte, MaxPacket)); err == nil {
		t.Fatal("a message longer than a packet was accepted")
	}
}

// clientAgainst logs in to a peer that answers with server's bytes, then
// runs the session, and returns the first error.
func clientAgainst(server []byte) error {
	cl, sv := net.Pipe()
	go func() {
		defer sv.Close()
		var hdr [2]byte
		if _, err := sv.Read(hdr[:]); err != nil {
			return
		}
		rest := make([]byte, binary.BigEndian.Uint16(hdr[:]))
		if _, err := sv.Read(rest); err != nil {
			return
		}
		sv.Write(server)
	}()
	c, err := Dial(context.Background(), ClientConfig{Addr: "pipe", Timeout: 2 * time.Second,
		Dialer: func(context.Context, string) (net.Conn, error) { return cl, nil }})
	if err != nil {
		return err
	}
	defer c.Close()
	return c.Run(context.Background(), func(uint64, []byte) {})
}

// FuzzReadPacket: no bytes make ReadPacket panic or read past a packet.
func FuzzReadPacket(f *testing.F) {
	f.Add(AppendLogin(nil, Login{Username: "alice", Password: "secret", Seq: 1}))
	f.Add([]byte{0, 0})
	f.Add([]byte{0xff, 0xff, 'S'})
	f.Fuzz(func(t *testing.T, b []byte) {
		r := bytes.NewReader(b)
		var buf []byte
		for {
			typ, p, grown, err := ReadPacket(r, buf)
			buf = grown
			if err != nil {
				return
			}
			if len(p)+1 > MaxPacket {
				t.Fatalf("packet of %d bytes", len(p))
			}
			switch typ {
			case LoginRequest:
				ParseLogin(p)
			case LoginAccepted:
				ParseAccepted(p)
			}
		}
	})
}

// FuzzClient: a client logged in to a peer that sends anything ends with
// an error or the end of the session, never a panic.
func FuzzClient(f *testing.F) {
	f.Add(append(AppendAccepted(nil, "S1", 1), AppendPacket(nil, SequencedData, []byte("m"))...))
	f.Add(AppendPacket(nil, LoginRejected, []byte{'A'}))
	f.Add(append(AppendAccepted(nil, "S1", 7), AppendPacket(nil, EndOfSession, nil)...))
	f.Fuzz(func(t *testing.T, b []byte) {
		clientAgainst(b)
	})
}
