package expert

import "thunderline/hotpath/window"

// Actions, in the order of Output.Scores.
const (
	ActBuy     = 0
	ActSell    = 1
	ActHold    = 2
	NumActions = 3
)

// Kinds of the built-in experts, as Kind returns them.
const (
	KindMomentum      = "momentum"
	KindMeanReversion = "mean_reversion"
	KindOrderFlow     = "order_flow"
	KindMLP           = "mlp"
)

// Input is one token as an expert sees it. The caller owns it; an expert
// reads it during Eval and never keeps it.
type Input struct {
	// Features is indexed by window.Feature (len window.NumFeatures); a
	// feature the window's recipe does not carry is 0.
	Features []float64
	// Embedding is the layer input, len = the layer's input dim.
	Embedding []float32
	// Symbol and End are the window's key and end (event time), for experts
	// that keep per-symbol state (none of the built-ins do).
	Symbol uint32
	End    int64
}

// Feature is in.Features[f], or 0 when Features is too short to hold f.
func (in *Input) Feature(f window.Feature) float64 {
	if int(f) < len(in.Features) {
		return in.Features[f]
	}
	return 0
}

// Output is what an expert returns for one token. The caller owns it (and
// Hidden's backing array); an expert writes it during Eval and never keeps it.
//
// Eval always sets Scores, Confidence and Abstain, and for a hidden-layer
// expert (OutDim > 0) the first OutDim values of Hidden:
//
//   - an action head (OutDim 0) sets Scores to a probability distribution
//     over buy/sell/hold and Confidence to its confidence in [0, 1];
//   - a hidden-layer expert sets Hidden[:OutDim], Scores to zeros and
//     Confidence to 1 unless it estimates one;
//   - an expert with no opinion calls SetAbstain, which leaves a neutral
//     output (hold with probability 1, confidence 0, Hidden zeroed), so a
//     blend that forgets to skip it is still not moved towards buy or sell.
//     The router should leave abstaining experts out of the blend and
//     renormalize the gate weights of the others.
type Output struct {
	Hidden     []float32
	Scores     [NumActions]float32
	Confidence float32
	Abstain    bool
}

// SetAbstain marks the output as an abstention and resets it to the neutral
// output: hold with probability 1, confidence 0, Hidden zeroed.
func (o *Output) SetAbstain() {
	o.Scores = [NumActions]float32{ActHold: 1}
	o.Confidence = 0
	o.Abstain = true
	clear(o.Hidden)
}

// setAction stores an action distribution and a confidence, rounding each
// to float32, and clears Abstain.
func (o *Output) setAction(buy, sell, hold, conf float64) {
	o.Scores = [NumActions]float32{float32(buy), float32(sell), float32(hold)}
	o.Confidence = float32(conf)
	o.Abstain = false
}

// Expert turns a token's input into an output. Implementations must not
// allocate in Eval and must not keep in or out after it returns. Eval is
// called by one goroutine at a time per Expert value (the built-in MLP keeps
// per-instance scratch); Name, Kind, InDim and OutDim may be called from any
// goroutine.
type Expert interface {
	// Name is the expert's id (unique in a router config).
	Name() string
	// Kind is the expert's type, e.g. "momentum" or "mlp".
	Kind() string
	// InDim is the length of Input.Embedding the expert reads; 0 means it
	// reads only Features and accepts any embedding.
	InDim() int
	// OutDim is the length of Output.Hidden it writes; 0 means it is an
	// action head (a final-layer expert) that writes Scores and Confidence.
	OutDim() int
	// Eval computes out from in.
	Eval(in *Input, out *Output)
}
