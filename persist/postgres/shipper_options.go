package postgres

import (
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	"thunderline/persist/artifacts"
	"thunderline/persist/journal"
)

// ShipperOptions configure a Shipper.
type ShipperOptions struct {
	// Dir is the run's journal directory. Required.
	Dir string
	// Tenant owns every row shipped from the journal (a run is one
	// tenant's); a window or trace naming another tenant goes to rejects.
	// Required.
	Tenant string
	// JournalID keys the journal in shipper_offsets and every shipped row.
	// Default: the absolute path of Dir.
	JournalID string
	// BatchSize is the most records per transaction that give the lane a
	// row (the other lane's records, skipped, do not count). Default
	// 16384: a backlog (ship DIR, a drain, a catch-up) goes in fewer,
	// larger transactions — BenchmarkShipperVsCopy at 46,000 rows: 0.80 of
	// a plain COPY with 4096, 0.85–0.86 with 16384. Live decision data
	// never fills one: it goes at MaxDelay.
	BatchSize int
	// MaxDelay is how long a batch collects records, from its first one
	// read, before it goes to a free writer; while the writer is busy with
	// the batch before, it keeps growing up to BatchSize. Default 200ms.
	MaxDelay time.Duration
	// Poll is how long the shipper waits at the end of the journal before
	// looking again. Default 20ms.
	Poll time.Duration
	// MinBackoff and MaxBackoff bound the wait after a failed batch; it
	// doubles from MinBackoff up to MaxBackoff and resets after a batch
	// lands. Defaults 50ms and 5s.
	MinBackoff, MaxBackoff time.Duration
	// Acked, when set, returns one past the last acknowledged record of the
	// journal (journal.Journal.Acked of the writer): the shipper ships
	// nothing beyond it.
	Acked func() journal.Offset
	// Logger gets one line per failed batch (bounded by the backoff).
	// Default: discard.
	Logger *slog.Logger
	// Lane is what this shipper ships of the journal: everything ("", the
	// default), the decision data (LaneDecisions: windows, labels, traces,
	// lineage, rejects, outbox events, documents) or the raw ticks
	// (LaneTicks). Two shippers, one per lane, each with its own offset in
	// shipper_offsets, keep decision data queryable within a batch delay
	// whatever the raw tick backlog. Both ship the symbol records they need.
	Lane Lane
	// Archive, on the tick lane (or everything), writes the raw ticks of
	// each batch as one Parquet file (persist/tickarchive) to this store and
	// lists it in tick_files — in the same transaction as the offset —
	// instead of one raw_market_ticks row a tick.
	Archive artifacts.Store
}

// Lane is a share of a journal's records that one shipper ships.
type Lane string

// The lanes of ShipperOptions.Lane.
const (
	LaneAll       Lane = ""
	LaneDecisions Lane = "decisions"
	LaneTicks     Lane = "ticks"
)

// offsetKey is the lane's key in shipper_offsets: the journal's own for
// everything or the decision data, "<journal id>#ticks" for raw ticks.
func (o ShipperOptions) offsetKey() string {
	if o.Lane == LaneTicks {
		return o.JournalID + "#ticks"
	}
	return o.JournalID
}

// owns reports whether the lane ships rows of table t. Each row has one
// lane, the symbols aside (both need them; written if absent): the engine's
// rejects are decision data; the tick lane writes the rejects row of a
// tick record it cannot decode (batch.add), and only those.
func (l Lane) owns(t int) bool {
	switch l {
	case LaneDecisions:
		return t != tTicks
	case LaneTicks:
		return t == tTicks || t == tSymbols
	}
	return true
}

// WithDefaults fills zero fields with their defaults.
func (o ShipperOptions) WithDefaults() ShipperOptions {
	if o.JournalID == "" && o.Dir != "" {
		if abs, err := filepath.Abs(o.Dir); err == nil {
			o.JournalID = abs
		} else {
			o.JournalID = o.Dir
		}
	}
	if o.BatchSize == 0 {
		o.BatchSize = 16384
	}
	if o.MaxDelay == 0 {
		o.MaxDelay = 200 * time.Millisecond
	}
	if o.Poll == 0 {
		o.Poll = 20 * time.Millisecond
	}
	if o.MinBackoff == 0 {
		o.MinBackoff = 50 * time.Millisecond
	}
	if o.MaxBackoff == 0 {
		o.MaxBackoff = 5 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// Validate names the first bad field.
func (o ShipperOptions) Validate() error {
	switch {
	case o.Dir == "":
		return errors.New("shipper: dir: required")
	case o.Tenant == "":
		return errors.New("shipper: tenant: required")
	case o.BatchSize < 1 || o.BatchSize > 1<<20:
		return fmt.Errorf("shipper: batch_size %d: must be between 1 and 1048576", o.BatchSize)
	case o.MaxDelay <= 0:
		return fmt.Errorf("shipper: max_delay %v: must be positive", o.MaxDelay)
	case o.Poll <= 0:
		return fmt.Errorf("shipper: poll %v: must be positive", o.Poll)
	case o.MinBackoff <= 0 || o.MaxBackoff < o.MinBackoff:
		return fmt.Errorf("shipper: backoff %v..%v: want 0 < min <= max", o.MinBackoff, o.MaxBackoff)
	case o.Lane != LaneAll && o.Lane != LaneDecisions && o.Lane != LaneTicks:
		return fmt.Errorf("shipper: lane %q: want decisions, ticks or empty (everything)", o.Lane)
	}
	return nil
}
