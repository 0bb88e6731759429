package dbnlive

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// FuzzHandshake: whatever a gateway sends, the client's handshake ends
// with a session or an error, never a panic or a hang.
func FuzzHandshake(f *testing.F) {
	f.Add([]byte("lsg_version=1\ncram=abc\nsuccess=1|session_id=1\n"))
	f.Add([]byte("lsg_version=1\ncram=abc\nsuccess=0|error=no\n"))
	f.Add([]byte("lsg_version=1\r\ncram=abc\r\nsuccess=1\r\nDBN\x02"))
	f.Add([]byte("x|y=\n\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		a, c := net.Pipe()
		go io.Copy(io.Discard, a) // what the client writes
		go func() {
			a.Write(b)
			a.Close()
		}()
		conn, err := handshake(c, Config{Key: "db-k0000", Dataset: "D", Schema: "mbo", SType: "raw_symbol", Symbols: []string{"S"}, Timeout: time.Second}.withDefaults())
		if err == nil {
			if !bytes.Contains(b, []byte("success=1")) {
				t.Fatalf("a session without success=1 from %q", b)
			}
			conn.Close()
		}
		c.Close()
	})
}

// FuzzControlLine: the line reader and the key=value parser take any
// bytes: an error naming the problem or a line of at most MaxLine bytes
// without a newline, whose fields have non-empty keys.
func FuzzControlLine(f *testing.F) {
	f.Add([]byte("success=1|session_id=5\n"))
	f.Add([]byte("a=1||=2\r\n"))
	f.Add([]byte("cram=" + strings.Repeat("z", MaxLine)))
	f.Fuzz(func(t *testing.T, b []byte) {
		br := bufio.NewReaderSize(bytes.NewReader(b), 16)
		for {
			line, err := readLine(br)
			if err != nil {
				if err != io.EOF && !errors.Is(err, ErrProtocol) {
					t.Fatalf("%v: neither EOF nor a protocol error", err)
				}
				return
			}
			if len(line) > MaxLine || strings.Contains(line, "\n") {
				t.Fatalf("line %q", line)
			}
			m, err := Fields(line)
			if err != nil {
				if !errors.Is(err, ErrProtocol) {
					t.Fatal(err)
				}
				continue
			}
			for k := range m {
				if k == "" || strings.ContainsAny(k, "|=") {
					t.Fatalf("key %q from %q", k, line)
				}
			}
		}
	})
}

// FuzzServerSubscribe: whatever an authenticated client sends as its
// subscription, the gateway starts a session or refuses it (counted),
// never panics.
func FuzzServerSubscribe(f *testing.F) {
	srv := &Server{key: testKey, dataset: "D", meta: []byte("DBN\x02\x00\x00\x00\x00")}
	f.Add([]byte("schema=mbo|stype_in=raw_symbol|symbols=ESH4|snapshot=0|is_last=1|start=5\nstart_session\n"))
	f.Add([]byte("schema=mbo\nstart_session=0\n"))
	f.Add([]byte("start=-1|schema=x\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		a, c := net.Pipe()
		done := make(chan struct{})
		go func() {
			defer close(done)
			br := bufio.NewReader(a)
			readLine(br)
			line, _ := readLine(br)
			io.WriteString(a, "auth="+AuthResponse(strings.TrimPrefix(line, "cram="), testKey)+"|dataset=D\n")
			readLine(br)               // success=1
			go io.Copy(io.Discard, br) // the stream, while b is written
			a.Write(b)
			a.Close()
		}()
		srv.session(c)
		c.Close()
		<-done
	})
}
