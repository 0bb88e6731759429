package router

import (
	"fmt"

	"thunderline/hotpath/enum"
)

// TokenStatus says how a token of the last batch was routed.
type TokenStatus uint8

const (
	// StatusRouted: picked by at least one expert; kept experts from
	// Dynamic Top-P.
	StatusRouted TokenStatus = iota
	// StatusArgmax: undercovered, then given its most probable expert with
	// spare capacity (PolicyArgmax).
	StatusArgmax
	// StatusUndercovered: picked by no expert and given none (PolicyAbstain,
	// or PolicyArgmax with every expert full).
	StatusUndercovered
	// StatusInvalid: a non-finite logit (NaN or Inf in the embedding, or
	// overflow); never routed, Probs row is NaN.
	StatusInvalid
)

var tokenStatusNames = enum.Names[TokenStatus]{StatusRouted: "routed", StatusArgmax: "argmax",
	StatusUndercovered: "undercovered", StatusInvalid: "invalid"}

func (s TokenStatus) String() string {
	if n, ok := tokenStatusNames.Name(s); ok {
		return n
	}
	return fmt.Sprintf("TokenStatus(%d)", uint8(s))
}

// Stats are the routing statistics of one batch (seed 004 §7, §9); doc.go
// defines each one exactly.
type Stats struct {
	// AvgExpertsPerToken is kept (token, expert) pairs / N, over all N
	// tokens (undercovered and invalid tokens count as 0).
	AvgExpertsPerToken float64
	// LoadBalanceRatio is the population standard deviation of the final
	// tokens per expert divided by their mean (coefficient of variation);
	// 0 is perfectly even, 0 when nothing is routed.
	LoadBalanceRatio float64
	// CapacityUtilization is kept pairs / (E·K).
	CapacityUtilization float64
	// PSaturation[b] counts routed tokens whose coverage (the summed
	// softmax probability of their kept experts) is in [b/10, (b+1)/10),
	// with coverage 1 in bucket 9.
	PSaturation [10]uint32
	// Entropy is the mean softmax entropy of the valid tokens, in nats.
	Entropy float64
	// Undercovered counts valid tokens no expert picked; UndercoveredAssigned
	// counts those PolicyArgmax gave an expert.
	Undercovered         int
	UndercoveredAssigned int
	// Invalid counts tokens with a non-finite logit.
	Invalid int
	// MaxExpertLoad is the largest final number of tokens of one expert
	// (never more than K).
	MaxExpertLoad int
}

// Assignment is the routing of one batch by one layer (seed 004 §14). It is
// preallocated by NewAssignment for a maximum batch size and expert count
// and overwritten by every Route; nothing it returns stays valid across
// Routes. It also holds Route's scratch, so one Assignment serves one
// goroutine at a time.
type Assignment struct {
	// RouterVersion and Layer come from the layer's config.
	RouterVersion uint64
	Layer         int
	// N tokens, E experts, K tokens per expert bucket.
	N, E, K int
	// CapacityFactor, P, MaxExpertsPerToken and Policy are the config the
	// batch was routed with.
	CapacityFactor     float64
	P                  float64
	MaxExpertsPerToken int
	Policy             Policy
	// Probs are the softmax probabilities, N×E row-major; a row of NaN for
	// an invalid token.
	Probs []float32
	Stats Stats

	maxTokens, maxExperts int

	// Outputs. Token i's kept experts are tokExp[tokOff[i]:tokOff[i+1]]
	// with gates tokGate[same]; expert e's tokens are
	// expTok[expOff[e]:expOff[e+1]].
	tokOff  []int32
	tokExp  []int16
	tokGate []float32
	expOff  []int32
	expTok  []int32
	status  []TokenStatus

	// Scratch.
	probsBuf []float32 // maxTokens×maxExperts; Probs is a prefix
	heap     []uint64  // top-k keys per expert: bits(p)<<32 | ^token
	cand     []uint64  // assigned experts per token: bits(p)<<32 | (MaxExperts-1-e)
	candOff  []int32   // maxTokens+1
	keep     []int32   // fill cursor per token, then kept count
	load     []int32   // maxExperts: kept tokens per expert, then fill cursor
	extra    []int16   // maxTokens: expert given by PolicyArgmax, or -1
	xs       []float32 // maxTokens×maxExperts: shifted logits
}

// NewAssignment preallocates an Assignment for batches of up to maxTokens
// tokens routed over up to maxExperts experts: about 34 bytes per
// token·expert pair. It panics if maxTokens < 1 or maxExperts is outside
// [1, MaxExperts], which are programming errors.
func NewAssignment(maxTokens, maxExperts int) *Assignment {
	if maxTokens < 1 || maxTokens > 1<<30 {
		panic(fmt.Sprintf("router: NewAssignment: maxTokens %d outside [1, 2^30]", maxTokens))
	}
	if maxExperts < 1 || maxExperts > MaxExperts {
		panic(fmt.Sprintf("router: NewAssignment: maxExperts %d outside [1, %d]", maxExperts, MaxExperts))
	}
	pairs := maxTokens * maxExperts
	return &Assignment{
		maxTokens:  maxTokens,
		maxExperts: maxExperts,
		tokOff:     make([]int32, maxTokens+1),
		tokExp:     make([]int16, pairs),
		tokGate:    make([]float32, pairs),
		expOff:     make([]int32, maxExperts+1),
		expTok:     make([]int32, pairs),
		status:     make([]TokenStatus, maxTokens),
		probsBuf:   make([]float32, pairs, pairs+simdPad),
		heap:       make([]uint64, pairs),
		cand:       make([]uint64, pairs),
		candOff:    make([]int32, maxTokens+1),
		keep:       make([]int32, maxTokens),
		load:       make([]int32, maxExperts),
		extra:      make([]int16, maxTokens),
		xs:         make([]float32, pairs, pairs+simdPad),
	}
}

// MaxTokens returns the largest batch this Assignment accepts.
func (a *Assignment) MaxTokens() int { return a.maxTokens }

// MaxExperts returns the largest expert count this Assignment accepts.
func (a *Assignment) MaxExperts() int { return a.maxExperts }

// TokenExperts returns token i's kept experts, most probable first, and
// their gate weights (summing to 1). Both are views into the Assignment:
// read them before the next Route, do not modify them. Empty for an
// undercovered or invalid token.
func (a *Assignment) TokenExperts(i int) (experts []int16, gates []float32) {
	lo, hi := a.tokOff[i], a.tokOff[i+1]
	return a.tokExp[lo:hi:hi], a.tokGate[lo:hi:hi]
}

// ExpertTokens returns expert e's final tokens in increasing index (a view,
// like TokenExperts).
func (a *Assignment) ExpertTokens(e int) []int32 {
	lo, hi := a.expOff[e], a.expOff[e+1]
	return a.expTok[lo:hi:hi]
}

// Status returns how token i was routed.
func (a *Assignment) Status(i int) TokenStatus { return a.status[i] }

// Pairs returns the number of kept (token, expert) pairs of the batch.
func (a *Assignment) Pairs() int { return int(a.tokOff[a.N]) }
