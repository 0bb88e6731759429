package config

import (
	"fmt"
	"time"

	"thunderline/hotpath/decide/spec"
)

// Risk is the `risk:` section (seed 004 §9).
type Risk struct {
	MaxPosition     int64       `yaml:"max_position"`     // units per symbol [10]
	TradeSize       int64       `yaml:"trade_size"`       // units per buy/sell [1]
	MaxLoss         float64     `yaml:"max_loss"`         // per symbol, price units × units [0: none]
	Interval        Duration    `yaml:"interval"`         // breach interval, event time [1s]
	BreachIntervals int         `yaml:"breach_intervals"` // in a row, to force high-latency experts to abstain [3]
	HighLatency     Duration    `yaml:"high_latency"`     // p99 above which an expert is high-latency [100µs]
	Deny            []DenyEntry `yaml:"deny"`             // (tenant, symbol) → halt
}

// DenyEntry halts one symbol of one tenant.
type DenyEntry struct {
	Tenant string `yaml:"tenant"`
	Symbol string `yaml:"symbol"`
}

func (r Risk) validate() error {
	if err := notNegative(
		negative("risk.max_position", r.MaxPosition),
		negative("risk.trade_size", r.TradeSize),
		negative("risk.max_loss", r.MaxLoss),
		negative("risk.interval", time.Duration(r.Interval)),
		negative("risk.breach_intervals", r.BreachIntervals),
		negative("risk.high_latency", time.Duration(r.HighLatency)),
	); err != nil {
		return err
	}
	for i, d := range r.Deny {
		if d.Tenant == "" || d.Symbol == "" {
			return spec.Fieldf(fmt.Sprintf("risk.deny[%d]", i), "needs a tenant and a symbol")
		}
	}
	return nil
}
