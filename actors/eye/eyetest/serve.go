package eyetest

import (
	"context"
	"testing"
	"time"
)

// Server is what Serve runs: an *eye.Server (eyetest cannot name the type:
// the eye package's own tests import eyetest).
type Server interface {
	Start() (url string, err error)
	Shutdown(ctx context.Context) error
}

// Serve starts srv, as eye.New returned it with err, and shuts it down
// when the test ends (within 5 s, flagging a failure); it returns the
// server's base URL, like "http://127.0.0.1:41234".
//
//	srv, err := eye.New(opts, backend, logger)
//	url := eyetest.Serve(t, srv, err)
func Serve[S Server](t testing.TB, srv S, err error) string {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	url, err := srv.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("shutdown the admin server: %v", err)
		}
	})
	return url
}
