package tree

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

type fakeExpert struct {
	name     string
	failed   atomic.Bool
	restarts atomic.Int32
	forced   atomic.Bool
}

func (f *fakeExpert) Name() string       { return f.name }
func (f *fakeExpert) Failed() bool       { return f.failed.Load() }
func (f *fakeExpert) Restart()           { f.restarts.Add(1); f.failed.Store(false) }
func (f *fakeExpert) Force(abstain bool) { f.forced.Store(abstain) }

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func nodeOf(r *Registry, path string) NodeStatus {
	for _, n := range r.Snapshot() {
		if n.Path == path {
			return n
		}
	}
	return NodeStatus{}
}

func TestPartitionRestartsThenEscalates(t *testing.T) {
	var mu sync.Mutex
	var escalated error
	tr, err := Start(Options{MaxRestarts: 3, BackoffMin: time.Millisecond, BackoffMax: 4 * time.Millisecond,
		OnEscalate: func(err error) { mu.Lock(); escalated = err; mu.Unlock() }},
		Components{Partitions: 2, PartitionRings: func(i int) []Ring { return []Ring{{Name: "in", Len: i, Cap: 8}} }})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Stop()
	var delays []time.Duration
	for k := 0; k < 3; k++ {
		ok, d := tr.PartitionCrashed(1, errors.New("boom"))
		if !ok {
			t.Fatalf("restart %d refused", k+1)
		}
		delays = append(delays, d)
		if st := nodeOf(tr.Registry(), "engine/flow/1"); st.Status != Restarting || st.Restarts != uint64(k+1) || st.LastError != "boom" {
			t.Fatalf("status after crash %d: %+v", k+1, st)
		}
		tr.PartitionRestarted(1)
		waitFor(t, "running again", func() bool { return nodeOf(tr.Registry(), "engine/flow/1").Status == Running })
	}
	if delays[0] != time.Millisecond || delays[1] != 2*time.Millisecond || delays[2] != 4*time.Millisecond {
		t.Fatalf("backoff %v", delays)
	}
	if ok, _ := tr.PartitionCrashed(1, errors.New("boom again")); ok {
		t.Fatal("restart beyond the limit allowed")
	}
	waitFor(t, "escalation", func() bool { mu.Lock(); defer mu.Unlock(); return escalated != nil })
	if st := nodeOf(tr.Registry(), "engine/flow/1"); st.Status != Failed {
		t.Fatalf("escalated partition shows %+v", st)
	}
	if st := nodeOf(tr.Registry(), "engine/flow/0"); st.Status != Running || st.Restarts != 0 || len(st.Rings) != 1 {
		t.Fatalf("the other partition was touched: %+v", st)
	}
	if st := nodeOf(tr.Registry(), "engine"); st.Status != Failed {
		t.Fatalf("root does not show the escalation: %+v", st)
	}
}

func TestBoltsRestartExpertsAndRetire(t *testing.T) {
	a, b := &fakeExpert{name: "a"}, &fakeExpert{name: "b"}
	var version atomic.Uint64
	version.Store(1)
	var layers atomic.Pointer[[][]Expert]
	l1 := [][]Expert{{a, b}}
	layers.Store(&l1)
	tr, err := Start(Options{MaxRestarts: 2, BackoffMin: time.Millisecond, Cadence: 2 * time.Millisecond},
		Components{Experts: func() (uint64, [][]Expert) { return version.Load(), *layers.Load() }})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Stop()
	waitFor(t, "bolts", func() bool { return nodeOf(tr.Registry(), "engine/chief/bolt/0.a").Path != "" })
	for k := int32(1); k <= 2; k++ {
		a.failed.Store(true)
		waitFor(t, "restart", func() bool { return a.restarts.Load() == k && !a.Failed() })
	}
	waitFor(t, "bolt status", func() bool {
		st := nodeOf(tr.Registry(), "engine/chief/bolt/0.a")
		return st.Status == Running && st.Restarts == 2
	})
	a.failed.Store(true)
	waitFor(t, "retirement", func() bool { return a.forced.Load() })
	if st := nodeOf(tr.Registry(), "engine/chief/bolt/0.a"); st.Status != Retired {
		t.Fatalf("retired expert shows %+v", st)
	}
	if b.restarts.Load() != 0 || b.forced.Load() {
		t.Fatal("the healthy expert was touched")
	}
	// A new router version brings new experts: new bolts, old ones gone.
	c := &fakeExpert{name: "c"}
	l2 := [][]Expert{{c}}
	layers.Store(&l2)
	version.Store(2)
	waitFor(t, "respawn", func() bool {
		return nodeOf(tr.Registry(), "engine/chief/bolt/0.c").Path != "" && nodeOf(tr.Registry(), "engine/chief/bolt/0.a").Path == ""
	})
}
