package tree

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// engine/federation starts runs, shows how many run, ended and failed and
// the last failure, and cancels the running ones when the tree stops.
func TestFederationActor(t *testing.T) {
	tr, err := Start(Options{}, Components{Federation: true})
	if err != nil {
		t.Fatal(err)
	}
	if !tr.RunFederation("f1", func(context.Context) error { return nil }) {
		t.Fatal("no federation actor")
	}
	tr.RunFederation("f2", func(context.Context) error { return errors.New("flower server exited 3") })
	waitFor(t, "two runs ended", func() bool {
		n := nodeOf(tr.Registry(), "engine/federation")
		return len(n.Rings) == 3 && n.Rings[1].Len == 2
	})
	n := nodeOf(tr.Registry(), "engine/federation")
	if n.Rings[2].Len != 1 || !strings.Contains(n.LastError, "federation f2: flower server exited 3") {
		t.Fatalf("node %+v", n)
	}
	started := make(chan struct{})
	cancelled := make(chan struct{})
	tr.RunFederation("f3", func(ctx context.Context) error {
		close(started)
		<-ctx.Done()
		close(cancelled)
		return ctx.Err()
	})
	<-started
	tr.Stop()
	select {
	case <-cancelled:
	case <-time.After(10 * time.Second):
		t.Fatal("a running federation was not cancelled when the tree stopped")
	}
	if n := nodeOf(tr.Registry(), "engine/federation"); n.Status != Stopped {
		t.Fatalf("status %s", n.Status)
	}
	without, _ := Start(Options{}, Components{})
	defer without.Stop()
	if without.RunFederation("x", func(context.Context) error { return nil }) {
		t.Fatal("a tree without the federation actor took a run")
	}
}
