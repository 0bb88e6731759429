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

// EDGAR window features (kind edgar, recipe edgar). Their ids start at
// FEdgarBase so they never collide with market ids; a window stores them in
// the same fixed array, at slot id − FEdgarBase (Slot). Ids are hashed:
// never renumber, only append (and bump the recipe's schema version).
const (
	FRevenueGrowth    Feature = FEdgarBase + iota // revenue / previous same-form filing's revenue − 1
	FNetMargin                                    // net income / revenue
	FNetMarginDelta                               // net margin − previous filing's net margin
	FOperatingMargin                              // operating income / revenue
	FLeverage                                     // liabilities / assets
	FLeverageDelta                                // leverage − previous filing's leverage
	FNetIncomeGrowth                              // net income / |previous net income| − sign
	FAssetsGrowth                                 // assets / previous assets − 1
	FSentimentNet                                 // word-list net sentiment of Item 1A + Item 7
	FNegativeShare                                // negative words / words
	FUncertaintyShare                             // uncertainty words / words
	FTextChange                                   // 1 − cosine(text embedding, previous filing's)
	FTextWords                                    // log(1 + words in Item 1A + Item 7)
	fEdgarEnd
)

// FEdgarBase is the id of the first EDGAR feature; NumEdgarFeatures of them
// fit a window's feature array.
const (
	FEdgarBase       Feature = 64
	NumEdgarFeatures int     = int(fEdgarEnd - FEdgarBase)
)

var edgarFeatureNames = [NumEdgarFeatures]string{
	"revenue_growth", "net_margin", "net_margin_delta", "operating_margin", "leverage",
	"leverage_delta", "net_income_growth", "assets_growth", "sentiment_net", "negative_share",
	"uncertainty_share", "text_change", "text_words",
}

// Slot is where f is stored in FeatureWindow.Features: the id itself for
// market features, id − FEdgarBase for EDGAR ones; -1 for an unknown id.
func (f Feature) Slot() int {
	switch {
	case int(f) < NumFeatures:
		return int(f)
	case f >= FEdgarBase && f < fEdgarEnd:
		return int(f - FEdgarBase)
	}
	return -1
}

// String is the feature's name as it appears in JSON, Postgres and exports.
func (f Feature) String() string {
	switch {
	case int(f) < NumFeatures:
		return featureNames[f]
	case f >= FEdgarBase && f < fEdgarEnd:
		return edgarFeatureNames[f-FEdgarBase]
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
	// RecipeEdgar is the features of an EDGAR filing window (kind edgar):
	// fundamentals against the previous filing of the same form and text
	// features of its sections.
	RecipeEdgar Recipe = 4
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
	RecipeEdgar: {"edgar", 1, []Feature{
		FRevenueGrowth, FNetMargin, FNetMarginDelta, FOperatingMargin, FLeverage, FLeverageDelta,
		FNetIncomeGrowth, FAssetsGrowth, FSentimentNet, FNegativeShare, FUncertaintyShare,
		FTextChange, FTextWords}},
}

// ParseRecipe maps a profile name to a market Recipe.
func ParseRecipe(s string) (Recipe, error) {
	for r := RecipeFull; r <= RecipeCore; r++ {
		if recipes[r].name == s {
			return r, nil
		}
	}
	return 0, fmt.Errorf("recipe %q: want full, coarse or core", s)
}

// Valid reports whether r is a known recipe.
func (r Recipe) Valid() bool { return r >= RecipeFull && r <= RecipeEdgar }

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
