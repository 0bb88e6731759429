package decide

import (
	"fmt"

	"thunderline/hotpath/expert"
)

// OpKind is an operator action (or a ladder step 6 action) on the stage.
type OpKind uint8

// Operator actions. Each is decided on the control plane and applied by
// the stage in band: at the batch boundary its control record was placed
// at, so a replay of the journal applies it to exactly the same batches.
const (
	OpDeny          OpKind = iota + 1 // halt decisions of (Tenant, Symbol)
	OpUndeny                          // release (Tenant, Symbol)
	OpHalt                            // the kill switch: halt every symbol
	OpResume                          // release the kill switch
	OpForce                           // an operator forces expert (Layer, Expert) to abstain
	OpUnforce                         // an operator releases it
	OpRetire                          // forced for good, in every later router version too
	OpRestart                         // a failed (panicked) expert is called again
	OpBreachForce                     // ladder step 6: forced while risk breaches last
	OpBreachRelease                   // ladder step 6 over: released
	OpInjectPanic                     // a drill: the expert's next call panics
	numOpKinds
)

var opNames = [numOpKinds]string{"", "deny", "undeny", "halt", "resume", "force", "unforce", "retire",
	"restart", "breach_force", "breach_release", "inject_panic"}

func (k OpKind) String() string {
	if k > 0 && k < numOpKinds {
		return opNames[k]
	}
	return fmt.Sprintf("op(%d)", k)
}

// ParseOpKind is the inverse of OpKind.String.
func ParseOpKind(s string) (OpKind, error) {
	for k := OpKind(1); k < numOpKinds; k++ {
		if opNames[k] == s {
			return k, nil
		}
	}
	return 0, fmt.Errorf("unknown operator action %q", s)
}

// Op is one operator action. Deny and undeny name a (Tenant, Symbol);
// expert actions a Layer and an Expert's name in the router version in use
// when the action applies.
type Op struct {
	ID     uint64 // the control record's sequence number in the run
	Kind   OpKind
	Tenant string
	Symbol string
	Layer  int
	Expert string
}

// Validate names what is wrong with op.
func (op *Op) Validate() error {
	switch {
	case op.Kind == 0 || op.Kind >= numOpKinds:
		return fmt.Errorf("operator action: kind %d unknown", op.Kind)
	case (op.Kind == OpDeny || op.Kind == OpUndeny) && (op.Tenant == "" || op.Symbol == ""):
		return fmt.Errorf("operator action %s: needs a tenant and a symbol", op.Kind)
	case op.Kind >= OpForce && (op.Layer < 0 || op.Layer >= MaxLayers || op.Expert == ""):
		return fmt.Errorf("operator action %s: needs a layer in [0, %d) and an expert", op.Kind, MaxLayers)
	}
	return nil
}

// ScheduleOp makes the stage apply op before every batch that ends after
// boundary, in the order of scheduling (router versions included): called
// by the dispatcher's control hook, like Schedule. Safe from any goroutine.
func (s *Stage) ScheduleOp(boundary int64, op Op) error {
	if err := op.Validate(); err != nil {
		return err
	}
	s.pendMu.Lock()
	s.pending = append(s.pending, scheduled{boundary: boundary, op: op})
	s.nPending.Store(int32(len(s.pending)))
	s.pendMu.Unlock()
	return nil
}

// applyOp carries out an operator action on the stage's goroutine, between
// batches. An expert the action names that the router version in use does
// not have is counted (Metrics.OpsUnmatched) and skipped: a replay skips it
// the same way.
func (s *Stage) applyOp(op *Op) {
	s.m.Ops.Add(1)
	switch op.Kind {
	case OpDeny, OpUndeny:
		if !s.risk.deny.Set(op.Tenant, op.Symbol, op.Kind == OpDeny) {
			s.m.OpsUnmatched.Add(1) // the list is full (the admin API refuses first)
		}
		return
	case OpHalt, OpResume:
		s.risk.deny.HaltAll(op.Kind == OpHalt)
		return
	case OpRetire:
		s.retired = append(s.retired, retiredExpert{op.Layer, op.Expert})
	}
	g := s.cur.Load().guard(op.Layer, op.Expert)
	if g == nil {
		s.m.OpsUnmatched.Add(1)
		return
	}
	switch op.Kind {
	case OpForce, OpRetire:
		g.Force(true)
	case OpUnforce:
		if !s.isRetired(op.Layer, op.Expert) && !s.forcedHere(g) {
			g.Force(false)
		}
	case OpRestart:
		g.Restart()
	case OpInjectPanic:
		g.InjectPanic()
	case OpBreachForce:
		if !s.forcedHere(g) {
			g.Force(true)
			s.forced = append(s.forced, g)
		}
	case OpBreachRelease:
		for i, f := range s.forced {
			if f == g {
				s.forced = append(s.forced[:i], s.forced[i+1:]...)
				if !s.isRetired(op.Layer, op.Expert) {
					g.Force(false)
				}
				break
			}
		}
	}
}

// retiredExpert is an expert retired by an operator: forced in every
// router version the stage switches to afterwards.
type retiredExpert struct {
	layer int
	name  string
}

func (s *Stage) isRetired(layer int, name string) bool {
	for _, r := range s.retired {
		if r.layer == layer && r.name == name {
			return true
		}
	}
	return false
}

// forceRetired forces the retired experts in m (a router version the stage
// switches to).
func (s *Stage) forceRetired(m *Model) {
	for _, r := range s.retired {
		if g := m.guard(r.layer, r.name); g != nil {
			g.Force(true)
		}
	}
}

// guard returns the expert named name of layer, or nil.
func (m *Model) guard(layer int, name string) *expert.Guard {
	if layer < 0 || layer >= len(m.Layers) {
		return nil
	}
	for _, g := range m.Layers[layer].Experts {
		if g.Name() == name {
			return g
		}
	}
	return nil
}
