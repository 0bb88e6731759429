package filings

import (
	"time"

	"github.com/shopspring/decimal"

	"thunderline/adapters/edgar/edgarrec"
)

// Role is what a fact is used as.
type Role uint8

const (
	RoleRevenue Role = iota
	RoleNetIncome
	RoleOperatingIncome
	RoleAssets
	RoleLiabilities
	RoleEquity
	RoleSharesOutstanding
	RoleEPSDiluted
	numRoles
)

var roleNames = [numRoles]string{"revenue", "net_income", "operating_income", "assets", "liabilities", "equity",
	"shares_outstanding", "eps_diluted"}

func (r Role) String() string { return roleNames[r] }

// roleConcepts lists, per role, the concepts that can carry it, in order
// of preference (the first one the filing reports wins).
var roleConcepts = [numRoles][]string{
	RoleRevenue: {"us-gaap:RevenueFromContractWithCustomerExcludingAssessedTax", "us-gaap:Revenues",
		"us-gaap:SalesRevenueNet", "us-gaap:RevenueFromContractWithCustomerIncludingAssessedTax", "ifrs-full:Revenue"},
	RoleNetIncome:         {"us-gaap:NetIncomeLoss", "us-gaap:ProfitLoss", "ifrs-full:ProfitLoss"},
	RoleOperatingIncome:   {"us-gaap:OperatingIncomeLoss", "ifrs-full:ProfitLossFromOperatingActivities"},
	RoleAssets:            {"us-gaap:Assets", "ifrs-full:Assets"},
	RoleLiabilities:       {"us-gaap:Liabilities", "ifrs-full:Liabilities"},
	RoleEquity:            {"us-gaap:StockholdersEquity", "ifrs-full:Equity"},
	RoleSharesOutstanding: {"dei:EntityCommonStockSharesOutstanding"},
	RoleEPSDiluted:        {"us-gaap:EarningsPerShareDiluted", "ifrs-full:DilutedEarningsLossPerShare"},
}

// instantRole reports whether a role is a balance (an instant) rather than
// a flow over the period.
func instantRole(r Role) bool {
	return r == RoleAssets || r == RoleLiabilities || r == RoleEquity || r == RoleSharesOutstanding
}

// Fundamentals are the values of one filing's period, exact.
type Fundamentals struct {
	Value       [numRoles]decimal.Decimal
	Has         [numRoles]bool
	Refs        []edgarrec.FactRef // the facts used, in role order
	PeriodStart int64              // start of the chosen duration, ns; 0 if no duration fact
}

// Get returns a role's value and whether the filing reported it.
func (f *Fundamentals) Get(r Role) (decimal.Decimal, bool) { return f.Value[r], f.Has[r] }

type cand struct {
	concept    string
	value      decimal.Decimal
	unit       string
	start, end time.Time
	instant    bool
	dims       bool
}

func latestEnd(cs []cand) int64 {
	var best time.Time
	for _, c := range cs {
		if !c.dims && c.end.After(best) {
			best = c.end
		}
	}
	return dayNs(best)
}

const day = 24 * time.Hour

// pickFundamentals chooses, for each role, the fact of the filing's own
// period: no dimensions, ending on the period end; for flows, the duration
// of the form (the shortest of at least 28 days for quarterly forms, the
// longest of at most 400 days otherwise); for shares outstanding (a cover
// page fact dated after the period), the latest instant. Ties go to the
// first in document order.
func pickFundamentals(cs []cand, periodEnd int64, form string) *Fundamentals {
	fu := &Fundamentals{}
	pe := time.Unix(0, periodEnd).UTC()
	q := quarterly(form)
	for r := Role(0); r < numRoles; r++ {
		best := -1
		var bestDur time.Duration
		for _, concept := range roleConcepts[r] {
			for i := range cs {
				c := &cs[i]
				if c.concept != concept || c.dims {
					continue
				}
				switch {
				case r == RoleSharesOutstanding:
					if c.instant && (best < 0 || c.end.After(cs[best].end)) {
						best = i
					}
				case instantRole(r):
					if c.instant && c.end.Equal(pe) && best < 0 {
						best = i
					}
				default:
					if c.instant || !c.end.Equal(pe) {
						continue
					}
					dur := c.end.Sub(c.start)
					ok := dur >= 28*day
					if !q {
						ok = ok && dur <= 400*day
					}
					if ok && (best < 0 || (q && dur < bestDur) || (!q && dur > bestDur)) {
						best, bestDur = i, dur
					}
				}
			}
			if best >= 0 {
				break
			}
		}
		if best < 0 {
			continue
		}
		c := &cs[best]
		fu.Value[r], fu.Has[r] = c.value, true
		per := c.end.Format("2006-01-02")
		if !c.instant {
			per = c.start.Format("2006-01-02") + ".." + per
			if fu.PeriodStart == 0 || r == RoleRevenue {
				fu.PeriodStart = c.start.UnixNano()
			}
		}
		fu.Refs = append(fu.Refs, edgarrec.FactRef{Role: r.String(), Concept: c.concept, Value: c.value.String(), Unit: c.unit, Period: per})
	}
	return fu
}

// ratio is a/b as a float64, exact to 16 significant digits; ok is false
// when b is zero.
func ratio(a, b decimal.Decimal) (float64, bool) {
	if b.IsZero() {
		return 0, false
	}
	f, _ := a.DivRound(b, 16).Float64()
	return f, true
}
