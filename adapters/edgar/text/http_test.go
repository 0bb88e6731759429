package text

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

func TestHTTPScorer(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/ok":
			w.Write([]byte(`{"words":10,"positive":1,"negative":2,"uncertainty":3,"litigious":0,"constraining":4}`))
		case "/slow":
			select {
			case <-release:
			case <-r.Context().Done():
			}
		case "/partial":
			w.Write([]byte(`{"words":10}`))
		default:
			http.Error(w, "no", http.StatusInternalServerError)
		}
	}))
	defer srv.Close()
	defer close(release) // before Close, which waits for the handlers
	ctx := context.Background()
	s, err := HTTPScorer{URL: srv.URL + "/ok"}.Score(ctx, "text")
	if err != nil || s != (Sentiment{Words: 10, Positive: 1, Negative: 2, Uncertainty: 3, Constraining: 4}) {
		t.Fatalf("ok: %+v %v", s, err)
	}
	for _, p := range []string{"/partial", "/fail"} {
		if _, err := (HTTPScorer{URL: srv.URL + p}).Score(ctx, "text"); err == nil {
			t.Fatalf("%s: no error", p)
		}
	}
	tm := NewTimed(HTTPScorer{URL: srv.URL + "/slow"}, 50*time.Millisecond, 1, 1)
	defer tm.Close()
	got, fell, reason := tm.Score(ctx, "a loss and a gain")
	if !fell || reason != ReasonTimeout || got != Score("a loss and a gain") {
		t.Fatalf("slow model: %+v fell %v reason %q", got, fell, reason)
	}
}
