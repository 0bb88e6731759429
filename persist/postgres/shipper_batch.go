package postgres

import (
	"fmt"
	"time"

	"thunderline/persist/tickarchive"
)

// batch is the rows decoded from journal records [start, end).
type batch struct {
	s          *Shipper
	start, end uint64
	n          int // records read
	// kept counts the records that gave this lane a row (or, archived, a
	// tick): what BatchSize bounds. A lane skips the other lane's records
	// without keeping anything, so a decision batch may cover many
	// thousands of raw tick records and hold a few dozen rows.
	kept    int
	firstAt time.Time // its first record read
	// since is when its first record was appended to the journal: a lower
	// bound from the acknowledgements observed (ackTimes), else firstAt.
	since    time.Time
	rows     [numTables][][]any
	rejected int
	ticks    []tickarchive.Row // with ShipperOptions.Archive
	file     *TickFile         // the ticks' archive file, once written (flush)
	// last: it holds the journal's end record (the run is over: nothing
	// will join it, so it goes to the writer at once).
	last bool
}

func newBatch(s *Shipper, start uint64) *batch { return &batch{s: s, start: start, end: start} }

// add decodes one record into rows. payload is only valid during the call:
// every row holds copies.
func (b *batch) add(kind uint8, off uint64, payload []byte) {
	if b.n == 0 {
		b.firstAt = time.Now()
		if b.since = b.s.acks.before(off); b.since.IsZero() {
			b.since = b.firstAt
		}
	}
	b.n++
	b.end = off + 1
	b.last = b.last || kind == recEnd
	if err := b.decode(&rec{kind: kind, off: off, p: payload, tenant: b.s.opts.Tenant, jid: b.s.opts.JournalID}); err != nil {
		if b.s.opts.Lane == LaneTicks && kind != recTick {
			// A symbol record or an unknown kind both lanes read: the
			// decision lane writes its reject row, once.
			return
		}
		b.rejected++
		b.kept++
		b.rows[tRejects] = append(b.rows[tRejects], []any{b.s.opts.Tenant, b.s.opts.JournalID, int64(off), "shipper",
			int32(kind), err.Error(), nil, append([]byte{}, payload...)})
	}
}

// decode adds the row of r to its table.
func (b *batch) decode(r *rec) error {
	if int(r.kind) >= len(rowOf) || rowOf[r.kind].row == nil {
		return fmt.Errorf("unknown record kind %d", r.kind)
	}
	to := rowOf[r.kind]
	if !b.s.opts.Lane.owns(to.table) {
		return nil // the other lane's: not even decoded
	}
	row, err := to.row(b, r)
	if err != nil || row == nil {
		return err
	}
	b.rows[to.table] = append(b.rows[to.table], row)
	b.kept++
	return nil
}
