package tree

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/anthdm/hollywood/actor"
)

// The federation actor (engine/federation) launches and supervises
// federated training runs: each RunFederation message starts one run (a
// Flower deployment the run function drives) on its own goroutine; the
// actor keeps how many run, counts the ended ones and the last failure for
// /actors, and cancels the running ones when the tree stops. A run that
// fails is not restarted: a federation is recorded as failed in the
// control plane, and a new one is a new federation.
type federationActor struct {
	t       *Tree
	path    string
	ctx     context.Context
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	running int
	done    int
	failed  int
}

// runFederation asks the actor to start a run.
type runFederation struct {
	id  string
	run func(ctx context.Context) error
}

// federationEnded is what a run's goroutine tells the actor.
type federationEnded struct {
	id  string
	err error
}

func (f *federationActor) Receive(c *actor.Context) {
	switch m := c.Message().(type) {
	case actor.Started:
		f.ctx, f.cancel = context.WithCancel(context.Background())
	case runFederation:
		f.running++
		f.update("")
		f.wg.Add(1)
		pid := c.PID()
		go func() {
			defer f.wg.Done()
			err := m.run(f.ctx)
			f.t.eng.Send(pid, federationEnded{id: m.id, err: err})
		}()
	case federationEnded:
		f.running--
		f.done++
		msg := ""
		if m.err != nil {
			f.failed++
			msg = fmt.Sprintf("federation %s: %v", m.id, m.err)
		}
		f.update(msg)
	case actor.Stopped:
		if f.cancel != nil {
			f.cancel()
		}
		f.wg.Wait()
		f.t.reg.set(f.path, func(n *NodeStatus) { n.Status = Stopped })
	}
}

// update shows the runs as the node's rings (running, ended, failed) and
// the last failure.
func (f *federationActor) update(lastErr string) {
	now := time.Now()
	running, done, failed := f.running, f.done, f.failed
	f.t.reg.set(f.path, func(n *NodeStatus) {
		n.Rings = []Ring{{Name: "running", Len: running}, {Name: "ended", Len: done}, {Name: "failed", Len: failed}}
		if lastErr != "" {
			n.LastError, n.LastErrorAt = lastErr, now
		}
	})
}

// RunFederation hands a federated training run to engine/federation,
// which starts and supervises it. It returns at once; false when the tree
// has no federation actor (Components.Federation off).
func (t *Tree) RunFederation(id string, run func(ctx context.Context) error) bool {
	if t.federation == nil {
		return false
	}
	t.eng.Send(t.federation, runFederation{id: id, run: run})
	return true
}
