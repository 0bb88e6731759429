package decide

import (
	"sync/atomic"

	"thunderline/hotpath/record"
)

// share is one expert's part in the position a decision established.
type share struct {
	expert uint16
	w      float32
}

type paperSym struct {
	pos     int64
	cash    float64 // price units: proceeds of sells minus cost of buys
	mid     float64 // last mark
	attr    [MaxKept]share
	nAttr   int
	started bool
}

// paper is the paper-trading book: blended actions become trades of
// TradeSize units at the window's closing mid; positions are marked to
// market at every decision. PnL is attributed to experts: the change in a
// symbol's mark-to-market value between two decisions goes to the experts
// that established the position held over that stretch, in proportion to
// their gate weights among the final-layer experts that voted for the
// blended action (all non-abstaining ones when none did).
type paper struct {
	syms      []*paperSym // by symbol
	expertPnL []float64   // by final-layer expert index
	tradeSize int64
	total     f64           // sum of every symbol's mark-to-market PnL; read by other goroutines
	trades    atomic.Uint64 // trades done
}

func newPaper(experts int, tradeSize int64) *paper {
	return &paper{syms: make([]*paperSym, record.MaxSymbols), expertPnL: make([]float64, experts), tradeSize: tradeSize}
}

func (p *paper) sym(id uint32) *paperSym {
	s := p.syms[id]
	if s == nil {
		s = &paperSym{}
		p.syms[id] = s
	}
	return s
}

// state returns a symbol's position and mark-to-market PnL at mid, before
// a decision.
func (p *paper) state(id uint32, mid float64) (pos int64, pnl float64) {
	s := p.sym(id)
	m := mid
	if m <= 0 {
		m = s.mid
	}
	return s.pos, s.cash + float64(float64(s.pos)*m)
}

// apply marks sym to mid, attributes the PnL since the last decision,
// executes action (already cleared by risk) and records the shares of the
// experts behind it. It returns the position and PnL after.
func (p *paper) apply(id uint32, action uint8, mid float64, t *DecisionTrace) (int64, float64) {
	s := p.sym(id)
	if mid > 0 {
		if s.started && s.pos != 0 {
			delta := float64(float64(s.pos) * (mid - s.mid))
			p.total.Add(delta)
			for _, a := range s.attr[:s.nAttr] {
				if int(a.expert) < len(p.expertPnL) {
					p.expertPnL[a.expert] += float64(delta * float64(a.w))
				}
			}
		}
		s.mid, s.started = mid, true
	}
	switch action {
	case ActionBuy:
		s.pos += p.tradeSize
		s.cash -= float64(float64(p.tradeSize) * s.mid)
		p.trades.Add(1)
	case ActionSell:
		s.pos -= p.tradeSize
		s.cash += float64(float64(p.tradeSize) * s.mid)
		p.trades.Add(1)
	}
	if action == ActionBuy || action == ActionSell {
		p.attribute(s, action, t)
	}
	return s.pos, s.cash + float64(float64(s.pos)*s.mid)
}

func (p *paper) attribute(s *paperSym, action uint8, t *DecisionTrace) {
	last := int(t.Layers) - 1
	if last < 0 {
		s.nAttr = 0
		return
	}
	acts := t.Actions[last][:t.NSel[last]]
	var sum float32
	agree := func(a *ExpertAction) bool {
		return !a.Abstain && argmax(a.Scores) == action
	}
	any := false
	for i := range acts {
		if agree(&acts[i]) {
			any = true
			sum += acts[i].Gate
		}
	}
	s.nAttr = 0
	for i := range acts {
		a := &acts[i]
		if a.Abstain || (any && !agree(a)) {
			continue
		}
		if !any {
			sum += a.Gate
		}
		s.attr[s.nAttr] = share{expert: a.Expert, w: a.Gate}
		s.nAttr++
	}
	if sum > 0 {
		for i := range s.attr[:s.nAttr] {
			s.attr[i].w /= sum
		}
	}
}

// argmax returns the action with the highest score; ties go to hold, then
// to the lower index.
func argmax(s [NumActions]float32) uint8 {
	best := uint8(ActionHold)
	for i := uint8(0); i < NumActions; i++ {
		if s[i] > s[best] {
			best = i
		}
	}
	return best
}
