package window

import "fmt"

// Feature is the stable id of one feature. Ids are part of the canonical
// encoding and so of every window hash: never renumber, only append.
type Feature uint8

const (
	FMidReturn      Feature = iota // (mid_end - mid_start) / mid_start
	FSpreadBps                     // spread at the window's end, in bps of the mid
	FTobImbalance                  // (bidQty - askQty) / (bidQty + askQty) at the top, at the end
	FDepthImbalance                // the same over the top Depth levels, at the end
	FRealizedVol                   // sqrt of the sum of squared mid returns inside the window
	FTradeCount                    // trades
	FVolume                        // traded quantity
	FVWAP                          // volume-weighted average trade price (0 without trades)
	FOFI                           // order-flow imbalance (Cont, Kukanov & Stoikov 2014), summed
	FMicroburst                    // 1 if one sub-interval holds a burst of ticks, else 0
	FTickCount                     // ticks applied to the window
	FMid                           // mid at the window's end
	FMeanSpreadBps                 // mean spread over the window's ticks, in bps
	NumFeatures     int     = iota
)

var featureNames = [NumFeatures]string{
	"mid_return", "spread_bps", "tob_imbalance", "depth_imbalance", "realized_vol",
	"trade_count", "volume", "vwap", "ofi", "microburst", "tick_count", "mid", "mean_spread_bps",
}

// String is the feature's name as it appears in JSON, Postgres and exports.
func (f Feature) String() string {
	if int(f) < NumFeatures {
		return featureNames[f]
	}
	return "invalid"
}

// Recipe selects which features a window carries (seed 004 §9 ladder steps
// 4-5: under pressure the engine steps from full to coarse to core).
type Recipe uint8

const (
	RecipeFull   Recipe = 1
	RecipeCoarse Recipe = 2
	RecipeCore   Recipe = 3
)

type recipeDef struct {
	name          string
	schemaVersion uint16
	features      []Feature
}

var recipes = [...]recipeDef{
	RecipeFull: {"full", 1, []Feature{
		FMidReturn, FSpreadBps, FTobImbalance, FDepthImbalance, FRealizedVol, FTradeCount,
		FVolume, FVWAP, FOFI, FMicroburst, FTickCount, FMid, FMeanSpreadBps}},
	RecipeCoarse: {"coarse", 1, []Feature{
		FMidReturn, FSpreadBps, FTobImbalance, FRealizedVol, FTradeCount, FVolume, FVWAP,
		FTickCount, FMid}},
	RecipeCore: {"core", 1, []Feature{FMidReturn, FTradeCount, FVolume, FVWAP, FTickCount, FMid}},
}

// ParseRecipe maps a profile name to a Recipe.
func ParseRecipe(s string) (Recipe, error) {
	for r := RecipeFull; r <= RecipeCore; r++ {
		if recipes[r].name == s {
			return r, nil
		}
	}
	return 0, fmt.Errorf("recipe %q: want full, coarse or core", s)
}

// Valid reports whether r is a known recipe.
func (r Recipe) Valid() bool { return r >= RecipeFull && r <= RecipeCore }

// String is the recipe's name.
func (r Recipe) String() string {
	if r.Valid() {
		return recipes[r].name
	}
	return "invalid"
}

// SchemaVersion is the feature_schema_version of windows built by r.
func (r Recipe) SchemaVersion() uint16 {
	if r.Valid() {
		return recipes[r].schemaVersion
	}
	return 0
}

// Features lists the features of r, in encoding order. Do not modify.
func (r Recipe) Features() []Feature {
	if r.Valid() {
		return recipes[r].features
	}
	return nil
}
