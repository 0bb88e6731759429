package runjournal

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"thunderline/hotpath/record"
	"thunderline/persist/journal"
	"thunderline/persist/tickarchive"
)

// ArchiveTicks adds to w the raw ticks of the records at offsets [from, to)
// of the run journal in dir (to 0: up to its end), as tenant's, and
// returns how many it added. Symbol names come from the journal's symbol
// records, read from its start. A record that does not decode is an error
// naming its offset.
func ArchiveTicks(dir string, from, to uint64, tenant string, w *tickarchive.Writer) (int, error) {
	r, err := journal.NewReader(dir, 0)
	if err != nil {
		return 0, err
	}
	defer r.Close()
	if to != 0 {
		r.SetLimit(journal.Offset(to))
	}
	names := map[uint32]string{}
	var t record.MarketTick
	n := 0
	for {
		kind, off, p, err := r.Next()
		if errors.Is(err, io.EOF) {
			return n, nil
		}
		if err != nil {
			return n, err
		}
		switch kind {
		case RecSymbol:
			if len(p) < 5 {
				return n, fmt.Errorf("%s: symbol record at %d: %d bytes", dir, off, len(p))
			}
			names[binary.LittleEndian.Uint32(p)] = string(p[4:])
		case RecTick:
			if uint64(off) < from {
				continue
			}
			if err := record.DecodeTick(p, &t); err != nil {
				return n, fmt.Errorf("%s: tick at %d: %w", dir, off, err)
			}
			name, ok := names[t.Symbol]
			if !ok {
				return n, fmt.Errorf("%s: tick at %d of symbol id %d before its symbol record", dir, off, t.Symbol)
			}
			w.Add(tenant, name, uint64(off), &t)
			n++
		}
	}
}
