package router

import (
	"fmt"
	"math"

	"thunderline/hotpath/enum"
)

// MaxExperts is the largest expert count a layer may have. Expert ids fit
// an int16 and the sort keys of the kernels reserve 16 bits for them.
const MaxExperts = 1024

// Policy says what happens to undercovered tokens: valid tokens that no
// expert picked in the Expert-Choice step.
type Policy uint8

const (
	// PolicyAbstain leaves an undercovered token without experts (the
	// decision for it is to abstain). It is counted in Stats.Undercovered.
	PolicyAbstain Policy = iota
	// PolicyArgmax gives an undercovered token to its most probable expert
	// that still has spare capacity (fewer than k tokens), in increasing
	// token index. It is counted in Stats.Undercovered, and in
	// Stats.UndercoveredAssigned when an expert had room.
	PolicyArgmax
)

var policyNames = enum.Names[Policy]{PolicyAbstain: "abstain", PolicyArgmax: "argmax"}

// String returns the name used in configuration files: "abstain" or
// "argmax".
func (p Policy) String() string {
	if s, ok := policyNames.Name(p); ok {
		return s
	}
	return fmt.Sprintf("Policy(%d)", uint8(p))
}

// ParsePolicy parses "abstain" or "argmax".
func ParsePolicy(s string) (Policy, error) {
	if p, ok := policyNames.Lookup(s); ok {
		return p, nil
	}
	return 0, &ConfigError{Field: "undercovered", Reason: fmt.Sprintf("unknown policy %q (want %s)", s, policyNames.Want())}
}

// LayerConfig configures one routing layer (seed 004 §7). The zero value is
// not valid: Experts, CapacityFactor and P must be set.
type LayerConfig struct {
	// Layer is the layer index, stamped on every Assignment. Must be >= 0.
	Layer int
	// Version is the router configuration version, stamped on every
	// Assignment as RouterVersion so decisions can be traced to the config
	// that made them.
	Version uint64
	// Experts is the number of experts E, in [1, MaxExperts].
	Experts int
	// CapacityFactor is c: each expert takes k = ceil(n·c/E) tokens of a
	// batch of n (clamped to [1, n]). Must be finite and > 0; 1 means the
	// buckets can hold every token once, 2 twice.
	CapacityFactor float64
	// P is the Dynamic Top-P threshold in (0, 1]: a token keeps its assigned
	// experts, most probable first, until their cumulative softmax
	// probability reaches P.
	P float64
	// MaxExpertsPerToken caps the experts a token keeps after Top-P. 0 (the
	// default) means no cap; a cap >= Experts never binds. Must be >= 0.
	MaxExpertsPerToken int
	// Undercovered is the policy for tokens no expert picked. The default
	// is PolicyAbstain.
	Undercovered Policy
}

// ConfigError is a bad LayerConfig or layer shape. Field is the snake_case
// name used in configuration files.
type ConfigError struct {
	Field  string
	Reason string
}

func (e *ConfigError) Error() string {
	return "router: " + e.Field + ": " + e.Reason
}

// Validate reports the first bad field of c as a *ConfigError.
func (c LayerConfig) Validate() error {
	bad := func(field, format string, args ...any) error {
		return &ConfigError{Field: field, Reason: fmt.Sprintf(format, args...)}
	}
	switch {
	case c.Layer < 0:
		return bad("layer", "must be >= 0, got %d", c.Layer)
	case c.Experts < 1 || c.Experts > MaxExperts:
		return bad("experts", "must be in [1, %d], got %d", MaxExperts, c.Experts)
	case !(c.CapacityFactor > 0) || math.IsInf(c.CapacityFactor, 0):
		return bad("capacity_factor", "must be finite and > 0, got %v", c.CapacityFactor)
	case !(c.P > 0 && c.P <= 1):
		return bad("p", "must be in (0, 1], got %v", c.P)
	case c.MaxExpertsPerToken < 0:
		return bad("max_experts_per_token", "must be >= 0 (0 = no cap), got %d", c.MaxExpertsPerToken)
	case c.Undercovered != PolicyAbstain && c.Undercovered != PolicyArgmax:
		return bad("undercovered", "unknown policy %d", uint8(c.Undercovered))
	}
	return nil
}

// Capacity returns k, the number of tokens each expert takes from a batch
// of n tokens: ceil(n·c/E − 1e-9) clamped to [1, n], and 0 when n <= 0. The
// 1e-9 absorbs binary rounding of decimal capacity factors (doc.go, step 4).
func (c LayerConfig) Capacity(n int) int {
	if n <= 0 {
		return 0
	}
	v := math.Ceil(float64(n)*c.CapacityFactor/float64(c.Experts) - 1e-9)
	if !(v >= 1) { // also catches NaN from an unvalidated config
		return 1
	}
	if v >= float64(n) {
		return n
	}
	return int(v)
}
