package eye

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"

	"thunderline/actors/eye/eyetest"
	"thunderline/hotpath/decide/spec"
)

// fedBackend adds the federation routes to the fake backend.
type fedBackend struct {
	*fakeBackend
	mu      sync.Mutex
	created [][]byte
}

func (f *fedBackend) Federations(context.Context) (any, error) {
	return []map[string]string{{"id": "f1", "status": "completed"}}, nil
}

func (f *fedBackend) Federation(_ context.Context, id string) (any, error) {
	if id != "f1" {
		return nil, ErrNotFound
	}
	return map[string]any{"id": "f1", "rounds": []int{1, 2, 3}}, nil
}

func (f *fedBackend) CreateFederation(_ context.Context, specYAML []byte) (string, error) {
	if !strings.Contains(string(specYAML), "name:") {
		// As the engine's config.ParseFederationSpec says it.
		return "", spec.Locate(spec.Fieldf("name", "required"), "federation spec", "request")
	}
	f.mu.Lock()
	f.created = append(f.created, specYAML)
	f.mu.Unlock()
	return "f2", nil
}

// The /federations routes exist when the backend runs federations, with
// their roles: listing and inspecting read-only, creating admin; a bad spec
// is 422 naming the field; without a FederationBackend they are 404.
func TestFederationRoutes(t *testing.T) {
	e := startEnv(t, nil)
	if r := e.do(http.MethodGet, "/federations", e.tokens[RoleAdmin], nil); r.status != http.StatusNotFound {
		t.Fatalf("without a federation backend: %d", r.status)
	}

	fb := &fedBackend{fakeBackend: newFakeBackend()}
	srv, err := New(Options{Addr: "127.0.0.1:0", Tokens: []Token{{Value: e.tokens[RoleReadOnly], Role: RoleReadOnly},
		{Value: e.tokens[RoleAdmin], Role: RoleAdmin}}}, fb, slog.New(slog.DiscardHandler))
	t.Cleanup(fb.hub.Close)
	e.url = eyetest.Serve(t, srv, err)
	r := e.do(http.MethodGet, "/federations", e.tokens[RoleReadOnly], nil)
	var list struct{ Federations []map[string]string }
	if r.status != http.StatusOK || json.Unmarshal(r.body, &list) != nil || len(list.Federations) != 1 {
		t.Fatalf("list: %d %s", r.status, r.body)
	}
	if r := e.do(http.MethodGet, "/federations/f1", e.tokens[RoleReadOnly], nil); r.status != http.StatusOK {
		t.Fatalf("inspect: %d", r.status)
	}
	if r := e.do(http.MethodGet, "/federations/nope", e.tokens[RoleReadOnly], nil); r.status != http.StatusNotFound {
		t.Fatalf("unknown: %d", r.status)
	}
	if r := e.do(http.MethodPost, "/federations", e.tokens[RoleReadOnly], []byte("name: x\n")); r.status != http.StatusForbidden {
		t.Fatalf("create as read-only: %d", r.status)
	}
	if r := e.do(http.MethodPost, "/federations", "", []byte("name: x\n")); r.status != http.StatusUnauthorized {
		t.Fatalf("create without a token: %d", r.status)
	}
	if r := e.do(http.MethodPost, "/federations", e.tokens[RoleAdmin], []byte("rounds: 3\n")); r.status != http.StatusUnprocessableEntity ||
		!strings.Contains(string(r.body), `"field":"name"`) {
		t.Fatalf("bad spec: %d %s", r.status, r.body)
	}
	r = e.do(http.MethodPost, "/federations", e.tokens[RoleAdmin], []byte("name: x\n"))
	if r.status != http.StatusAccepted || !strings.Contains(string(r.body), `"id":"f2"`) || len(fb.created) != 1 {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
}
