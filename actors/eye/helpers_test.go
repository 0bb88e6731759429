package eye

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"thunderline/actors/eye/eyetest"
)

// syncBuffer is a log sink safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type testEnv struct {
	t      *testing.T
	url    string
	srv    *Server
	fake   *fakeBackend
	tokens map[Role]string
	logs   *syncBuffer
	client *http.Client
}

const wrongToken = "thl_this-token-is-not-configured-anywhere"

func startEnv(t *testing.T, mod func(*Options)) *testEnv {
	t.Helper()
	e := &testEnv{t: t, fake: newFakeBackend(), logs: &syncBuffer{}, tokens: map[Role]string{},
		client: &http.Client{Timeout: 10 * time.Second}}
	opts := Options{Addr: "127.0.0.1:0"}
	for _, r := range []Role{RoleReadOnly, RoleOperator, RoleAdmin} {
		tok, err := GenerateToken()
		if err != nil {
			t.Fatal(err)
		}
		tok.Role = r
		e.tokens[r] = tok.Value
		opts.Tokens = append(opts.Tokens, tok)
	}
	if mod != nil {
		mod(&opts)
	}
	logger := slog.New(slog.NewJSONHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	t.Cleanup(e.fake.hub.Close) // after the server's shutdown
	srv, err := New(opts, e.fake, logger)
	e.srv = srv
	e.url = eyetest.Serve(t, srv, err)
	return e
}

type resp struct {
	status int
	header http.Header
	body   []byte
}

// do sends a request with the token (none if ""). For /stream it reads only
// the headers.
func (e *testEnv) do(method, path, token string, body []byte) resp {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, e.url+path, bytes.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := e.client.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	var b []byte
	if !strings.HasPrefix(res.Header.Get("Content-Type"), "text/event-stream") {
		if b, err = io.ReadAll(res.Body); err != nil {
			e.t.Fatalf("%s %s: read: %v", method, path, err)
		}
	}
	return resp{status: res.StatusCode, header: res.Header, body: b}
}

// checkError asserts a JSON error body with the code and a message.
func checkError(t *testing.T, what string, r resp, status int, code string) apiError {
	t.Helper()
	if r.status != status {
		t.Fatalf("%s: status %d, want %d (body %s)", what, r.status, status, r.body)
	}
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("%s: Content-Type %q, want JSON", what, ct)
	}
	var e apiError
	dec := json.NewDecoder(bytes.NewReader(r.body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil {
		t.Fatalf("%s: error body %s: %v", what, r.body, err)
	}
	if e.Code != code || e.Message == "" {
		t.Fatalf("%s: error %+v, want code %q and a message", what, e, code)
	}
	return e
}
