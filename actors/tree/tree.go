// Package tree is the engine's supervised actor tree (anthdm/hollywood): the
// control plane that mirrors the components.
//
//	engine
//	├─ chief        cadence, router versions; parent of the bolts
//	│  └─ bolt/<l>.<name>   one per expert: restarts a failed expert with backoff
//	├─ flow/<p>     one per partition: decides restarts of its partition
//	├─ flow/edgar-<p>  one per filings partition (by CIK): its queue, the
//	│                  last document it could not read
//	├─ federation   launches and supervises federated training runs
//	├─ cell         registry of short-lived jobs
//	├─ persist      journal status
//	├─ link         pub/sub
//	└─ eye          admin HTTP
//
// Actors carry control messages only (typed, never ticks). The data plane
// runs on its own goroutines; it asks its actor what to do when it fails
// (a partition crash is a request to flow/<p>), and the actors keep the
// state /actors shows: status, restarts, last error, ring depths.
package tree

import (
	"cmp"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/anthdm/hollywood/actor"
	"github.com/cenkalti/backoff/v5"
)

// Status values of a node.
const (
	Running    = "running"
	Restarting = "restarting"
	Failed     = "failed"
	Stopped    = "stopped"
	Retired    = "retired"
)

// Ring is one ring's depth, for /actors.
type Ring struct {
	Name     string
	Len, Cap int
}

// NodeStatus is one actor as /actors shows it.
type NodeStatus struct {
	Name, Path, Status string
	Restarts           uint64
	LastError          string
	LastErrorAt        time.Time
	Rings              []Ring
}

type node struct {
	st    NodeStatus
	rings func() []Ring
}

// Registry holds the status of every actor; actors write it, the admin
// HTTP reads it.
type Registry struct {
	mu    sync.Mutex
	nodes map[string]*node
}

func newRegistry() *Registry { return &Registry{nodes: map[string]*node{}} }

func (r *Registry) set(path string, f func(n *NodeStatus)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := r.nodes[path]
	if n == nil {
		n = &node{st: NodeStatus{Path: path, Name: path[lastSlash(path)+1:], Status: Running}}
		r.nodes[path] = n
	}
	f(&n.st)
}

// setRings adds path (if new) with rings, nil for none, read at each
// Snapshot.
func (r *Registry) setRings(path string, rings func() []Ring) {
	r.set(path, func(*NodeStatus) {})
	r.mu.Lock()
	r.nodes[path].rings = rings
	r.mu.Unlock()
}

func (r *Registry) remove(path string) {
	r.mu.Lock()
	delete(r.nodes, path)
	r.mu.Unlock()
}

func lastSlash(s string) int {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == '/' {
			return i
		}
	}
	return -1
}

// Snapshot returns every node, parents before children (by path).
func (r *Registry) Snapshot() []NodeStatus {
	r.mu.Lock()
	out := make([]NodeStatus, 0, len(r.nodes))
	var rings []func() []Ring
	for _, n := range r.nodes {
		out = append(out, n.st)
		rings = append(rings, n.rings)
	}
	r.mu.Unlock()
	for i, f := range rings {
		if f != nil {
			out[i].Rings = f()
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

// Expert is what a bolt supervises (a *expert.Guard).
type Expert interface {
	Name() string
	Failed() bool
	Restart()
	Force(abstain bool)
}

// Components are the engine's parts the tree watches.
type Components struct {
	// Partitions is the partition count; PartitionRings their ring depths.
	Partitions     int
	PartitionRings func(i int) []Ring
	// Experts returns the router version in use and its experts by layer.
	Experts func() (version uint64, layers [][]Expert)
	// Persist, Link and Eye report the rings or state of those components
	// (nil: not running).
	PersistRings func() []Ring
	Link         bool
	Eye          bool
	// EdgarPartitions is the filings path's partition count (0: none);
	// EdgarRings their queue depths.
	EdgarPartitions int
	EdgarRings      func(i int) []Ring
	// Federation starts engine/federation, the actor that launches and
	// supervises federated training runs (RunFederation).
	Federation bool
}

// Options tune supervision.
type Options struct {
	// MaxRestarts of one partition or expert before escalating [5].
	MaxRestarts int
	// BackoffMin and BackoffMax bound the delay before a restart: it
	// doubles from min with each restart [10ms, 1s].
	BackoffMin, BackoffMax time.Duration
	// Cadence is the chief's interval: experts are checked and the router
	// version watched every Cadence [100ms].
	Cadence time.Duration
	// OnEscalate is called (from an actor) when a partition cannot be
	// restarted: the run must stop.
	OnEscalate func(err error)
	Logger     *slog.Logger
}

func (o Options) withDefaults() Options {
	o.MaxRestarts = cmp.Or(o.MaxRestarts, 5)
	o.BackoffMin = cmp.Or(o.BackoffMin, 10*time.Millisecond)
	o.BackoffMax = cmp.Or(o.BackoffMax, time.Second)
	o.Cadence = cmp.Or(o.Cadence, 100*time.Millisecond)
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// Tree is the running actor tree.
type Tree struct {
	opts  Options
	comps Components
	eng   *actor.Engine
	root  *actor.PID
	flows []*actor.PID
	chief *actor.PID
	// edgarFlows are the filings partitions' actors.
	edgarFlows []*actor.PID
	federation *actor.PID
	reg        *Registry
	cancel     actor.SendRepeater
}

// Start builds the tree and starts its actors.
func Start(opts Options, comps Components) (*Tree, error) {
	opts = opts.withDefaults()
	if opts.MaxRestarts < 0 || opts.BackoffMin <= 0 || opts.BackoffMax < opts.BackoffMin || opts.Cadence <= 0 {
		return nil, errors.New("actor tree: max_restarts, backoff and cadence must be positive, backoff_max ≥ backoff_min")
	}
	eng, err := actor.NewEngine(actor.NewEngineConfig())
	if err != nil {
		return nil, fmt.Errorf("actor tree: %w", err)
	}
	t := &Tree{opts: opts, comps: comps, eng: eng, reg: newRegistry()}
	t.reg.set("engine", func(*NodeStatus) {})
	t.root = eng.Spawn(func() actor.Receiver { return &rootActor{t: t} }, "engine", actor.WithID("root"))
	// Group nodes, so every path's parent exists in /actors.
	t.reg.set("engine/flow", func(*NodeStatus) {})
	t.reg.set("engine/chief/bolt", func(*NodeStatus) {})
	t.flows = t.spawnFlows(comps.Partitions, "", comps.PartitionRings, func(i int, path string) actor.Receiver {
		return &flowActor{t: t, i: i, path: path, backoff: t.newBackoff()}
	})
	t.edgarFlows = t.spawnFlows(comps.EdgarPartitions, "edgar-", comps.EdgarRings, func(_ int, path string) actor.Receiver {
		return &edgarFlowActor{t: t, path: path}
	})
	if comps.Federation {
		t.reg.set("engine/federation", func(*NodeStatus) {})
		t.federation = eng.Spawn(func() actor.Receiver { return &federationActor{t: t, path: "engine/federation"} }, "federation", actor.WithID("federation"))
	}
	t.reg.set("engine/chief", func(*NodeStatus) {})
	t.chief = eng.Spawn(func() actor.Receiver { return &chiefActor{t: t, bolts: map[string]*actor.PID{}} }, "chief", actor.WithID("chief"))
	for _, c := range []struct {
		name  string
		on    bool
		rings func() []Ring
	}{{"cell", true, nil}, {"persist", comps.PersistRings != nil, comps.PersistRings}, {"link", comps.Link, nil}, {"eye", comps.Eye, nil}} {
		if !c.on {
			continue
		}
		path := "engine/" + c.name
		t.reg.setRings(path, c.rings)
		eng.Spawn(func() actor.Receiver { return &statusActor{t: t, path: path} }, c.name, actor.WithID(c.name))
	}
	t.cancel = eng.SendRepeat(t.chief, cadence{}, opts.Cadence)
	return t, nil
}

// spawnFlows starts n flow actors, ids prefix+"0", prefix+"1", ... at
// paths engine/flow/<id>, each showing rings(i) in /actors when rings is
// set.
func (t *Tree) spawnFlows(n int, prefix string, rings func(i int) []Ring, newActor func(i int, path string) actor.Receiver) []*actor.PID {
	var pids []*actor.PID
	for i := range n {
		id := prefix + strconv.Itoa(i)
		path := "engine/flow/" + id
		var nodeRings func() []Ring
		if rings != nil {
			nodeRings = func() []Ring { return rings(i) }
		}
		t.reg.setRings(path, nodeRings)
		pids = append(pids, t.eng.Spawn(func() actor.Receiver { return newActor(i, path) }, "flow", actor.WithID(id)))
	}
	return pids
}

// Registry is the status of every actor.
func (t *Tree) Registry() *Registry { return t.reg }

// Stop stops every actor.
func (t *Tree) Stop() {
	t.cancel.Stop()
	pids := append(append([]*actor.PID{t.chief, t.root}, t.flows...), t.edgarFlows...)
	if t.federation != nil {
		pids = append(pids, t.federation)
	}
	for _, pid := range pids {
		<-t.eng.Poison(pid).Done()
	}
	t.reg.mu.Lock()
	for _, n := range t.reg.nodes {
		if n.st.Status == Running || n.st.Status == Restarting {
			n.st.Status = Stopped
		}
	}
	t.reg.mu.Unlock()
}

// PartitionCrashed asks flow/<i> what to do about a crash of its partition:
// restart after delay, or not (it escalated). It blocks for at most a
// second; without an answer the crash escalates.
func (t *Tree) PartitionCrashed(i int, crash error) (restart bool, delay time.Duration) {
	resp := t.eng.Request(t.flows[i], partitionCrashed{err: crash.Error()}, time.Second)
	v, err := resp.Result()
	if err != nil {
		return false, 0
	}
	d := v.(partitionVerdict)
	return d.restart, d.delay
}

// EdgarRejected tells flow/edgar-<i> a document it parsed could not be
// read (a parse error, or a parser panic recovered at the document): the
// partition goes on; /actors shows the last one.
func (t *Tree) EdgarRejected(i int, reason string) {
	if i >= 0 && i < len(t.edgarFlows) {
		t.eng.Send(t.edgarFlows[i], documentRejected{reason: reason})
	}
}

// PartitionRestarted tells flow/<i> its partition runs again.
func (t *Tree) PartitionRestarted(i int) { t.eng.Send(t.flows[i], partitionRestarted{}) }

// newBackoff is one supervised thing's restart delays: BackoffMin,
// doubling per restart up to BackoffMax, without jitter.
func (t *Tree) newBackoff() backoff.ExponentialBackOff {
	b := backoff.ExponentialBackOff{
		InitialInterval:     t.opts.BackoffMin,
		RandomizationFactor: 0,
		Multiplier:          2,
		MaxInterval:         t.opts.BackoffMax,
	}
	b.Reset()
	return b
}

// Messages. Each actor takes its own concrete types.
type (
	partitionCrashed struct{ err string }
	partitionVerdict struct {
		restart bool
		delay   time.Duration
	}
	partitionRestarted struct{}
	documentRejected   struct{ reason string }
	cadence            struct{}
	expertCheck        struct{}
	expertRestart      struct{}
	escalate           struct {
		from string
		err  string
	}
)

type rootActor struct{ t *Tree }

func (r *rootActor) Receive(c *actor.Context) {
	switch m := c.Message().(type) {
	case escalate:
		r.t.opts.Logger.Error("escalated to the engine", "from", m.from, "err", m.err)
		r.t.reg.set("engine", func(n *NodeStatus) { n.Status, n.LastError, n.LastErrorAt = Failed, m.from+": "+m.err, time.Now() })
		if r.t.opts.OnEscalate != nil {
			r.t.opts.OnEscalate(fmt.Errorf("%s: %s", m.from, m.err))
		}
	}
}

type flowActor struct {
	t        *Tree
	i        int
	path     string
	restarts int
	backoff  backoff.ExponentialBackOff // never reset: restarts only add up
}

func (f *flowActor) Receive(c *actor.Context) {
	switch m := c.Message().(type) {
	case partitionCrashed:
		f.restarts++
		now := time.Now()
		if f.restarts > f.t.opts.MaxRestarts {
			f.t.reg.set(f.path, func(n *NodeStatus) {
				n.Status, n.Restarts, n.LastError, n.LastErrorAt = Failed, uint64(f.restarts-1), m.err, now
			})
			c.Respond(partitionVerdict{})
			c.Send(f.t.root, escalate{from: f.path, err: fmt.Sprintf("%s (after %d restarts)", m.err, f.restarts-1)})
			return
		}
		f.t.reg.set(f.path, func(n *NodeStatus) {
			n.Status, n.Restarts, n.LastError, n.LastErrorAt = Restarting, uint64(f.restarts), m.err, now
		})
		c.Respond(partitionVerdict{restart: true, delay: f.backoff.NextBackOff()})
	case partitionRestarted:
		f.t.reg.set(f.path, func(n *NodeStatus) { n.Status = Running })
	}
}

// edgarFlowActor is a filings partition's actor. A document that cannot be
// read is rejected at the document (counted and journaled by the engine),
// so the partition never stops; the actor keeps the last reason.
type edgarFlowActor struct {
	t    *Tree
	path string
}

func (f *edgarFlowActor) Receive(c *actor.Context) {
	if m, ok := c.Message().(documentRejected); ok {
		now := time.Now()
		f.t.reg.set(f.path, func(n *NodeStatus) { n.LastError, n.LastErrorAt = m.reason, now })
	}
}

type chiefActor struct {
	t       *Tree
	version uint64
	bolts   map[string]*actor.PID
}

func (ch *chiefActor) Receive(c *actor.Context) {
	switch c.Message().(type) {
	case cadence:
		if ch.t.comps.Experts == nil {
			return
		}
		v, layers := ch.t.comps.Experts()
		if v != ch.version {
			ch.respawn(c, v, layers)
		}
		for _, pid := range ch.bolts {
			c.Send(pid, expertCheck{})
		}
	case escalate:
		// A bolt gave up on its expert: it stays retired (forced to abstain).
	}
}

// respawn replaces the bolts when the router version changes: a new
// version brings its own experts.
func (ch *chiefActor) respawn(c *actor.Context, v uint64, layers [][]Expert) {
	for path, pid := range ch.bolts {
		c.Engine().Poison(pid)
		ch.t.reg.remove(path)
	}
	ch.bolts = map[string]*actor.PID{}
	ch.version = v
	for l, exps := range layers {
		for _, e := range exps {
			e := e
			id := fmt.Sprintf("%d.%s", l, e.Name())
			path := "engine/chief/bolt/" + id
			ch.t.reg.set(path, func(*NodeStatus) {})
			ch.bolts[path] = c.SpawnChild(func() actor.Receiver { return &boltActor{t: ch.t, e: e, path: path, backoff: ch.t.newBackoff()} }, "bolt", actor.WithID(id))
		}
	}
}

type boltActor struct {
	t        *Tree
	e        Expert
	path     string
	restarts int
	backoff  backoff.ExponentialBackOff // never reset: restarts only add up
	pending  bool
	retired  bool
}

func (b *boltActor) Receive(c *actor.Context) {
	switch c.Message().(type) {
	case expertCheck:
		if b.retired || b.pending || !b.e.Failed() {
			return
		}
		b.restarts++
		now := time.Now()
		if b.restarts > b.t.opts.MaxRestarts {
			b.retired = true
			b.e.Force(true)
			b.t.reg.set(b.path, func(n *NodeStatus) {
				n.Status, n.Restarts, n.LastError, n.LastErrorAt = Retired, uint64(b.restarts-1), "too many panics: retired", now
			})
			c.Send(c.Parent(), escalate{from: b.path, err: "retired after repeated panics"})
			return
		}
		b.pending = true
		b.t.reg.set(b.path, func(n *NodeStatus) {
			n.Status, n.Restarts, n.LastError, n.LastErrorAt = Restarting, uint64(b.restarts), "expert panicked", now
		})
		self, eng := c.PID(), c.Engine()
		time.AfterFunc(b.backoff.NextBackOff(), func() { eng.Send(self, expertRestart{}) })
	case expertRestart:
		b.pending = false
		b.e.Restart()
		b.t.reg.set(b.path, func(n *NodeStatus) { n.Status = Running })
	}
}

// statusActor holds a component's place in the tree.
type statusActor struct {
	t    *Tree
	path string
}

func (s *statusActor) Receive(c *actor.Context) {
	switch c.Message().(type) {
	case actor.Stopped:
		s.t.reg.set(s.path, func(n *NodeStatus) { n.Status = Stopped })
	}
}
