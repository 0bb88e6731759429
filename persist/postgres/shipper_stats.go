package postgres

import (
	"slices"
	"time"
)

// ShipperStats is a snapshot of a Shipper's metrics.
type ShipperStats struct {
	NextOffset uint64  // committed: every record below it is in Postgres
	Lag        uint64  // records read (or acknowledged, with Acked) and not yet committed
	Batches    uint64  // transactions committed
	Rows       uint64  // rows inserted by them (replayed duplicates not counted)
	Records    uint64  // journal records covered by them
	Rejects    uint64  // records the shipper could not decode (rows in rejects, source 'shipper')
	Errors     uint64  // failed batches and reconnects
	RowsPerSec float64 // Rows over the time Run has run
	// LagSeconds: 0 when caught up, else the time since the shipper last was
	// (an upper bound on the age of the oldest record not yet in Postgres).
	LagSeconds float64
	// BatchSizes counts committed batches by records per batch: entry i
	// counts batches of at most BatchSizeBounds[i] records (the last, more).
	BatchSizes [len(BatchSizeBounds) + 1]uint64
	LastError  string // the latest failure, "" if none
	// CommitLag is, over the last 1,024 committed batches, the time from a
	// batch's first record being appended to the journal to the batch's
	// commit: how stale the rows are when they become visible. P50, P99
	// and the worst. The append time is a lower bound from the journal's
	// acknowledged offset as observed (ShipperOptions.Acked; ackTimes), so
	// the lag errs long by at most Poll plus a millisecond; without Acked
	// (a closed journal) it is counted from the record's read instead.
	CommitLagP50, CommitLagP99, CommitLagMax time.Duration
	// With ShipperOptions.Archive: raw ticks archived as Parquet, the
	// files (tick_files rows) and their bytes.
	ArchivedTicks, ArchivedFiles, ArchivedBytes uint64
}

const lagRing = 1024

// BatchSizeBounds are the upper bounds of ShipperStats.BatchSizes' buckets.
var BatchSizeBounds = [...]uint64{1, 10, 100, 1000, 10000}

// Stats returns the shipper's metrics; safe from any goroutine.
func (s *Shipper) Stats() ShipperStats {
	st := ShipperStats{
		NextOffset: s.next.Load(), Batches: s.batches.Load(), Rows: s.rows.Load(), Records: s.records.Load(),
		Rejects: s.rejects.Load(), Errors: s.errs.Load(),
		ArchivedTicks: s.archivedTicks.Load(), ArchivedFiles: s.archivedFiles.Load(), ArchivedBytes: s.archivedBytes.Load(),
	}
	end := s.readEnd.Load()
	if s.opts.Acked != nil {
		end = max(end, uint64(s.opts.Acked()))
	}
	if end > st.NextOffset {
		st.Lag = end - st.NextOffset
		if at := s.caughtUp.Load(); at != 0 {
			st.LagSeconds = time.Since(time.Unix(0, at)).Seconds()
		}
	} else {
		s.caughtUp.Store(time.Now().UnixNano())
	}
	for i := range s.sizes {
		st.BatchSizes[i] = s.sizes[i].Load()
	}
	if start := s.runNanos.Load(); start != 0 {
		if el := time.Since(time.Unix(0, start)).Seconds(); el > 0 {
			st.RowsPerSec = float64(st.Rows) / el
		}
	}
	if e := s.lastErr.Load(); e != nil {
		st.LastError = *e
	}
	if k := min(s.nLags.Load(), lagRing); k > 0 {
		v := make([]int64, k)
		for i := range v {
			v[i] = s.lags[i].Load()
		}
		slices.Sort(v)
		st.CommitLagP50, st.CommitLagP99, st.CommitLagMax = time.Duration(v[k/2]), time.Duration(v[min(k*99/100, k-1)]), time.Duration(v[k-1])
	}
	return st
}
