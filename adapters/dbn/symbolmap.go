package dbn

import (
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"thunderline/hotpath/record"
)

// symbolMap resolves instrument ids to interned symbol ids. The hot path is
// lookup: a one-entry memo, then an open-addressing table keyed by
// instrument id. Each cached answer carries the ts_event range it holds for,
// because metadata mappings change by date. Everything else (the stream's
// symbol mapping and definition records, the metadata intervals, interning)
// runs once per instrument and date range, off the hot path.
type symbolMap struct {
	syms      *record.Symbols
	strict    bool
	intervals []interval        // from the metadata, sorted by iid then start
	stream    map[uint32]string // from symbol mapping records in the stream
	defs      map[uint32]string // from instrument definition records
	slots     []cacheSlot       // len is a power of two
	used      int               // occupied slots
	last      cacheSlot         // memo of the last lookup
	scratch   [32]byte          // fallback name builder
}

type interval struct {
	iid    uint32
	lo, hi int64 // ts_event range, ns: [lo, hi)
	name   string
}

type cacheSlot struct {
	iid    uint32
	sym    uint32
	lo, hi int64 // the answer holds for ts_event in [lo, hi)
	used   bool
}

const initialSlots = 64

func newSymbolMap(md *Metadata, syms *record.Symbols, strict bool) *symbolMap {
	m := &symbolMap{
		syms:   syms,
		strict: strict,
		stream: make(map[uint32]string),
		defs:   make(map[uint32]string),
		slots:  make([]cacheSlot, initialSlots),
	}
	m.intervals = metadataIntervals(md)
	return m
}

// metadataIntervals flattens the metadata mappings into (iid, dates, name)
// entries. With stype_out instrument_id the interval symbol is the id and the
// requested symbol is the name; with stype_in instrument_id it is the other
// way round. Parent symbology (e.g. "ES.FUT") maps many instruments to one
// requested symbol, which would merge their books, so it is not used: those
// instruments are named from definitions or the fallback.
func metadataIntervals(md *Metadata) []interval {
	inverse := md.StypeIn == STypeInstrumentID
	if !inverse && (md.StypeOut != STypeInstrumentID || md.StypeIn == STypeParent) {
		return nil
	}
	var out []interval
	for _, sm := range md.Mappings {
		for _, iv := range sm.Intervals {
			idText, name := iv.Symbol, sm.RawSymbol
			if inverse {
				idText, name = sm.RawSymbol, iv.Symbol
			}
			id, err := strconv.ParseUint(idText, 10, 32)
			lo, okLo := dateNanos(iv.StartDate)
			hi, okHi := dateNanos(iv.EndDate)
			if err != nil || name == "" || !okLo || !okHi || hi <= lo {
				continue
			}
			out = append(out, interval{iid: uint32(id), lo: lo, hi: hi, name: name})
		}
	}
	slices.SortFunc(out, func(a, b interval) int {
		if a.iid != b.iid {
			if a.iid < b.iid {
				return -1
			}
			return 1
		}
		if a.lo < b.lo {
			return -1
		}
		if a.lo > b.lo {
			return 1
		}
		return strings.Compare(a.name, b.name)
	})
	return out
}

// dateNanos converts a YYYYMMDD date to ns since the epoch at 00:00 UTC.
func dateNanos(d uint32) (int64, bool) {
	y, mo, day := int(d/10000), int(d/100%100), int(d%100)
	if y < 1970 || y > 2261 || mo < 1 || mo > 12 || day < 1 || day > 31 {
		return 0, false
	}
	return time.Date(y, time.Month(mo), day, 0, 0, 0, 0, time.UTC).UnixNano(), true
}

// lookup returns the symbol id of iid at time ts. It allocates only when it
// learns a new name.
func (m *symbolMap) lookup(publisher uint16, iid uint32, ts int64) (uint32, error) {
	if l := &m.last; l.used && l.iid == iid && ts >= l.lo && ts < l.hi {
		return l.sym, nil
	}
	i := m.find(iid)
	if s := &m.slots[i]; s.used && ts >= s.lo && ts < s.hi {
		m.last = *s
		return s.sym, nil
	}
	sym, lo, hi, err := m.resolve(publisher, iid, ts)
	if err != nil {
		return 0, err
	}
	if !m.slots[i].used {
		if (m.used+1)*2 > len(m.slots) {
			m.grow()
			i = m.find(iid)
		}
		m.used++
	}
	m.slots[i] = cacheSlot{iid: iid, sym: sym, lo: lo, hi: hi, used: true}
	m.last = m.slots[i]
	return sym, nil
}

// find returns the slot holding iid, or the empty slot where it belongs.
func (m *symbolMap) find(iid uint32) int {
	mask := len(m.slots) - 1
	i := int(uint64(iid)*0x9E3779B97F4A7C15>>32) & mask
	for m.slots[i].used && m.slots[i].iid != iid {
		i = (i + 1) & mask
	}
	return i
}

func (m *symbolMap) grow() {
	old := m.slots
	m.slots = make([]cacheSlot, 2*len(old))
	for _, s := range old {
		if s.used {
			m.slots[m.find(s.iid)] = s
		}
	}
}

// invalidate drops the cached answer for iid after its name source changed.
func (m *symbolMap) invalidate(iid uint32) {
	if s := &m.slots[m.find(iid)]; s.used {
		s.lo, s.hi = 0, 0
	}
	if m.last.iid == iid {
		m.last.used = false
	}
}

// resolve finds the name of iid at ts: a symbol mapping record from the
// stream, then the metadata interval covering ts, then a definition record,
// then the fallback. It returns the interned id and the ts range the answer
// holds for.
func (m *symbolMap) resolve(publisher uint16, iid uint32, ts int64) (sym uint32, lo, hi int64, err error) {
	lo, hi = math.MinInt64, math.MaxInt64
	if name, ok := m.stream[iid]; ok {
		sym, err = m.syms.Intern(name)
		return sym, lo, hi, err
	}
	// Metadata intervals: binary search to the iid's first entry.
	k, _ := slices.BinarySearchFunc(m.intervals, iid, func(e interval, t uint32) int {
		if e.iid < t {
			return -1
		}
		if e.iid > t {
			return 1
		}
		return 0
	})
	for ; k < len(m.intervals) && m.intervals[k].iid == iid; k++ {
		e := &m.intervals[k]
		if ts >= e.lo && ts < e.hi {
			sym, err = m.syms.Intern(e.name)
			return sym, e.lo, e.hi, err
		}
		// Not covered: the answer below only holds between intervals.
		if e.hi <= ts {
			lo = max(lo, e.hi)
		} else {
			hi = min(hi, e.lo)
		}
	}
	if name, ok := m.defs[iid]; ok {
		sym, err = m.syms.Intern(name)
		return sym, lo, hi, err
	}
	if m.strict {
		return 0, lo, hi, nil
	}
	b := strconv.AppendUint(m.scratch[:0], uint64(publisher), 10)
	b = append(b, ':')
	b = strconv.AppendUint(b, uint64(iid), 10)
	sym, err = m.syms.Intern(string(b))
	return sym, lo, hi, err
}

// learnMapping records a symbol mapping record's output symbol for iid.
func (m *symbolMap) learnMapping(iid uint32, name []byte) {
	if len(name) == 0 || m.stream[iid] == string(name) {
		return
	}
	m.stream[iid] = string(name)
	m.invalidate(iid)
}

// learnDefinition records a definition's raw symbol for iid.
func (m *symbolMap) learnDefinition(iid uint32, rawSymbol []byte) {
	if len(rawSymbol) == 0 || m.defs[iid] == string(rawSymbol) {
		return
	}
	m.defs[iid] = string(rawSymbol)
	m.invalidate(iid)
}
