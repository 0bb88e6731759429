package window

import (
	"cmp"
	"fmt"
	"time"

	"thunderline/hotpath/enum"
)

var monoBase = time.Now()

// MonoNow is nanoseconds on the process's monotonic clock, for latency
// measurements between goroutines (never for anything hashed).
func MonoNow() int64 { return int64(time.Since(monoBase)) }

// WallOfMono converts a MonoNow reading to wall-clock ns since the Unix
// epoch (as of the process's start: a later clock step is not followed).
func WallOfMono(mono int64) int64 { return monoWall + mono }

var monoWall = monoBase.UnixNano()

// WindowKind is the kind of a FeatureWindow (seed 004 §3).
type WindowKind uint8

const (
	KindMarket WindowKind = 1
	KindEdgar  WindowKind = 2
)

var kindNames = enum.Names[WindowKind]{KindMarket: "market", KindEdgar: "edgar"}

func (k WindowKind) String() string { return kindNames.Or(k, "invalid") }

// Status of a window's labels.
type Status uint8

const (
	StatusOpen       Status = 1 // labels not yet known
	StatusFilled     Status = 2 // labels filled from data at the horizon
	StatusSuperseded Status = 3 // replaced by a later version
)

var statusNames = enum.Names[Status]{StatusOpen: "open", StatusFilled: "filled", StatusSuperseded: "superseded"}

func (s Status) String() string { return statusNames.Or(s, "invalid") }

// LabelType is the kind of label a window gets.
type LabelType uint8

const (
	// LabelNone: the window has no label (EDGAR windows: their status
	// follows their parts, not a horizon).
	LabelNone LabelType = 0
	// LabelDelta is mid(end+horizon) - mid(end), in price units.
	LabelDelta LabelType = 1
	// LabelClass is +1, 0 or -1: the return from end to end+horizon above
	// ThresholdBps, within it, or below -ThresholdBps.
	LabelClass LabelType = 2
)

// labelTypeNames are the label types a profile may name (not LabelNone).
var labelTypeNames = enum.Names[LabelType]{LabelDelta: "delta", LabelClass: "class"}

// ParseLabelType maps a profile value to a LabelType.
func ParseLabelType(s string) (LabelType, error) { return labelTypeNames.Parse("label type", s) }

func (t LabelType) String() string {
	if t == LabelNone {
		return "none"
	}
	return labelTypeNames.Or(t, "invalid")
}

// LabelSpec is a window's label_spec.
type LabelSpec struct {
	Horizon      int64 // ns after the window's end
	Type         LabelType
	ThresholdBps float64 // LabelClass only
}

// FeatureWindow is the fixed-size form of seed 004 §3 FeatureWindow. Tenant
// and the symbol's name are not stored here (they are the same for every
// window of a run and a symbol); the encoder adds them.
type FeatureWindow struct {
	ID            [16]byte // derived from tenant, kind, key, start, end and recipe
	Hash          [32]byte // sha256 of the canonical encoding
	Start, End    int64    // event time, ns; the window is [Start, End)
	Features      [NumFeatures]float64
	Label         LabelSpec
	FirstInSeq    uint64 // provenance: the input range the window's ticks came from
	LastInSeq     uint64
	Ticks         uint32
	Symbol        uint32
	SchemaVersion uint16
	Kind          WindowKind
	Recipe        Recipe
	Status        Status
	// AtEnd marks a window closed by the end of the input (the final
	// watermark's flush), not by a watermark passing its end: its close →
	// trace latency is counted apart (a run's last windows all close at
	// once, so a short run's tail would be its shutdown). Never encoded or
	// hashed.
	AtEnd bool
	// ClosedNs is when the window closed, on the process's monotonic clock
	// (MonoNow): a measurement for latency, never encoded or hashed.
	ClosedNs int64
	// ClosedRx is the receive time (ns since the Unix epoch) of the tick
	// whose watermark closed the window, when the feed stamps receive times
	// (0 otherwise): packet receipt → trace latency. Never encoded or hashed.
	ClosedRx int64
}

// LabelFill records that a window's label is known: the window moves from
// open to filled.
type LabelFill struct {
	WindowID  [16]byte
	Hash      [32]byte // sha256 of the canonical encoding of the fill
	End       int64    // the window's end
	Label     LabelSpec
	MidEnd    float64 // mid at the window's end
	MidTarget float64 // mid at end + horizon
	Value     float64 // delta in price units, or the class as -1, 0, +1
	Symbol    uint32
	Valid     bool // false when a mid was missing at end or target: no label
}

// Config sets a partition's windows. Times are event time.
type Config struct {
	// Length of a window. Default 250ms.
	Length time.Duration
	// Overlap between consecutive windows, in [0, 0.95]. Default 0.5: a
	// window starts every Length*(1-Overlap). Set NoOverlap for 0.
	Overlap float64
	// NoOverlap makes Overlap 0 (the zero value means the default).
	NoOverlap bool
	// Lateness is how far behind the newest event time a tick may arrive
	// and still be counted in its windows. Default 0.
	Lateness time.Duration
	// Recipe of the features. Default RecipeFull.
	Recipe Recipe
	// Label of each window. Default: delta over 500ms.
	Label LabelSpec
	// Depth of the book used for depth imbalance. Default 10.
	Depth int
	// Microburst: the window is cut into BurstBuckets sub-intervals; a burst
	// is a sub-interval holding at least BurstRatio times the mean and at
	// least BurstMinTicks ticks. Defaults 10, 4, 20.
	BurstBuckets  int
	BurstRatio    float64
	BurstMinTicks int
	// MaxLabelsPending bounds labels waiting for their horizon per symbol.
	// Default 4096.
	MaxLabelsPending int
}

// WithDefaults fills zero fields with their defaults.
func (c Config) WithDefaults() Config {
	c.Length = cmp.Or(c.Length, 250*time.Millisecond)
	if c.NoOverlap {
		c.Overlap = 0
	} else {
		c.Overlap = cmp.Or(c.Overlap, 0.5)
	}
	c.Recipe = cmp.Or(c.Recipe, RecipeFull)
	c.Label.Type = cmp.Or(c.Label.Type, LabelDelta)
	c.Label.Horizon = cmp.Or(c.Label.Horizon, int64(500*time.Millisecond))
	c.Depth = cmp.Or(c.Depth, 10)
	c.BurstBuckets = cmp.Or(c.BurstBuckets, 10)
	c.BurstRatio = cmp.Or(c.BurstRatio, 4)
	c.BurstMinTicks = cmp.Or(c.BurstMinTicks, 20)
	c.MaxLabelsPending = cmp.Or(c.MaxLabelsPending, 4096)
	return c
}

// Step is the distance between consecutive window starts.
func (c Config) Step() int64 {
	s := int64(float64(c.Length) * (1 - c.Overlap))
	return max(s, 1)
}

// slots is how many windows of one symbol can be open at once.
func (c Config) slots() int {
	step := c.Step()
	return int((int64(c.Length)+int64(c.Lateness)+step-1)/step) + 2
}

// Validate names the first bad field.
func (c Config) Validate() error {
	switch {
	case c.Length < time.Microsecond:
		return fmt.Errorf("length %v: must be at least 1µs", c.Length)
	case c.Overlap < 0 || c.Overlap > 0.95:
		return fmt.Errorf("overlap %v: must be between 0 and 0.95", c.Overlap)
	case c.Lateness < 0:
		return fmt.Errorf("allowed_lateness %v: must not be negative", c.Lateness)
	case c.slots() > 1024:
		return fmt.Errorf("allowed_lateness %v: more than 1024 windows would be open per symbol", c.Lateness)
	case !c.Recipe.Valid() || c.Recipe == RecipeEdgar:
		return fmt.Errorf("recipe %d: unknown", c.Recipe)
	case c.Label.Type != LabelDelta && c.Label.Type != LabelClass:
		return fmt.Errorf("label.type %d: unknown", c.Label.Type)
	case c.Label.Horizon <= 0:
		return fmt.Errorf("label.horizon %v: must be positive", time.Duration(c.Label.Horizon))
	case c.Label.ThresholdBps < 0:
		return fmt.Errorf("label.threshold_bps %v: must not be negative", c.Label.ThresholdBps)
	case c.Depth < 1 || c.Depth > 32:
		return fmt.Errorf("depth %d: must be between 1 and 32", c.Depth)
	case c.BurstBuckets < 1 || c.BurstBuckets > 64:
		return fmt.Errorf("burst_buckets %d: must be between 1 and 64", c.BurstBuckets)
	case c.BurstRatio < 1:
		return fmt.Errorf("burst_ratio %v: must be at least 1", c.BurstRatio)
	case c.BurstMinTicks < 1:
		return fmt.Errorf("burst_min_ticks %d: must be positive", c.BurstMinTicks)
	case c.MaxLabelsPending < 1:
		return fmt.Errorf("max_labels_pending %d: must be positive", c.MaxLabelsPending)
	}
	return nil
}
