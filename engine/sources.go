package engine

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"

	"thunderline/adapters/dbn"
	"thunderline/adapters/inputfile"
	"thunderline/adapters/synthetic"
	"thunderline/engine/config"
	"thunderline/engine/runjournal"
	"thunderline/hotpath/decide"
	"thunderline/hotpath/record"
	"thunderline/persist/journal"
)

// SyntheticSource adapts the synthetic feed: io.EOF once MaxTicks is reached.
type SyntheticSource struct{ Feed *synthetic.Feed }

// Next implements Source.
func (s SyntheticSource) Next(dst []record.MarketTick) (int, error) {
	n, err := s.Feed.Next(dst)
	if n == 0 && err == nil {
		return 0, io.EOF
	}
	return n, err
}

// countingReader counts bytes read, for progress.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// dbnSource plays DBN files one after the other.
type dbnSource struct {
	paths  []string
	syms   *record.Symbols
	opts   dbn.SourceOptions
	i      int
	f      *os.File
	cr     *countingReader
	src    *dbn.Source
	rd     *dbn.Reader
	done   int64 // bytes of files finished
	total  int64
	counts dbn.RecordCounts
}

// newDBNSource checks that every file exists and returns a source over them.
func newDBNSource(paths []string, syms *record.Symbols, opts dbn.SourceOptions) (*dbnSource, error) {
	s := &dbnSource{paths: paths, syms: syms, opts: opts}
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("dbn input: %w", err)
		}
		if !st.Mode().IsRegular() { // a FIFO would block open and ignore SIGTERM
			return nil, fmt.Errorf("dbn input %s: %w", p, inputfile.ErrNotRegular)
		}
		s.total += st.Size()
	}
	return s, nil
}

// open opens the next input: a regular file only, checked before the open,
// which cannot block (inputfile).
func (s *dbnSource) open() error {
	f, _, err := inputfile.Open(s.paths[s.i], inputfile.Options{What: "dbn input"})
	if err != nil {
		return err
	}
	s.f = f
	s.cr = &countingReader{r: f}
	r, err := dbn.NewReader(bufio.NewReaderSize(s.cr, 1<<16))
	if err != nil {
		f.Close()
		s.f = nil
		return fmt.Errorf("dbn input %s: %w", s.paths[s.i], err)
	}
	s.rd = r
	s.src = dbn.NewSource(r, s.syms, s.opts)
	return nil
}

func (s *dbnSource) closeFile() {
	c := s.src.RecordCounts()
	for i, n := range c.ByRType {
		s.counts.ByRType[i] += n
	}
	s.counts.Total += c.Total
	s.counts.Market += c.Market
	s.counts.Skipped += c.Skipped
	s.counts.Unknown += c.Unknown
	s.counts.Ticks += c.Ticks
	s.done += s.cr.n
	s.rd.Close()
	s.f.Close()
	s.f, s.src, s.rd = nil, nil, nil
	s.i++
}

// Next implements Source.
func (s *dbnSource) Next(dst []record.MarketTick) (int, error) {
	return chainNext(dst, "dbn", s.paths, &s.i, func() Source {
		if s.src == nil {
			return nil
		}
		return s.src
	}, s.open, s.closeFile)
}

// chainNext plays files one after the other: cur is the open file's source
// (nil: none open), open opens paths[*i], done closes it and moves *i on.
// An error of a file ends the chain, naming the file.
func chainNext(dst []record.MarketTick, what string, paths []string, i *int, cur func() Source, open func() error, done func()) (int, error) {
	for *i < len(paths) {
		if cur() == nil {
			if err := open(); err != nil {
				return 0, err
			}
		}
		n, err := cur().Next(dst)
		if n > 0 {
			return n, nil
		}
		if errors.Is(err, io.EOF) {
			done()
			continue
		}
		if err != nil {
			path := paths[*i]
			done()
			*i = len(paths)
			return 0, fmt.Errorf("%s input %s: %w", what, path, err)
		}
	}
	return 0, io.EOF
}

// Counts returns the records read from finished files, by rtype.
func (s *dbnSource) Counts() dbn.RecordCounts { return s.counts }

// Position reports compressed bytes consumed and the total, for progress.
// Called from the monitor goroutine; the counters it reads are updated by
// the reader, so the figure is approximate (it is a progress bar).
func (s *dbnSource) Position() (int64, int64) { return s.done, s.total }

// Recorded is what a journal says a run produced: the hashes that
// replay --verify checks re-derived windows and labels against.
type Recorded struct {
	Windows map[[16]byte][32]byte // window id → hash
	Labels  map[[16]byte][32]byte // window id → label hash
	Traces  map[[16]byte][32]byte // trace id → trace hash
	End     *endRecord
	Rejects uint64
	Kinds   map[string]uint64 // records by kind
}

// journalSource plays the ticks of a run's journal, in the order they were
// recorded, with their recorded ingest sequence numbers. Symbol ids are
// re-interned in the order the journal names them; other records are only
// counted (LoadRecorded reads them for verification).
type journalSource struct {
	r     *journal.Reader
	syms  *record.Symbols
	remap map[uint32]uint32
	Kinds map[string]uint64 // records read, by kind
	// OnRouter receives each router config the journal records (before the
	// control record that switches to it); OnOperator each operator action.
	OnRouter   func(config.Router)
	OnOperator func(decide.Op)
	// Cut, once the source has ended, says whether the journal ends as a
	// finished run's does (nil) or was cut.
	Cut *JournalCut
}

// JournalCut describes a journal that does not end as a finished run's: no
// end record (the run was killed, or its disk failed), and possibly a torn
// tail — bytes after the last whole block, which replay cannot read.
type JournalCut struct {
	EndRecord   bool   `json:"end_record"`
	Segment     string `json:"segment,omitempty"`
	WholeBlocks int64  `json:"whole_blocks_end_at,omitempty"` // byte offset in Segment
	TornBytes   int64  `json:"torn_bytes"`
}

// Text says what was cut, for people.
func (c *JournalCut) Text() string {
	s := "the journal has its end record"
	if !c.EndRecord {
		s = "the journal ends without its end record (the run was cut)"
	}
	if c.TornBytes > 0 {
		s += fmt.Sprintf("; %d bytes after the last whole block of %s (at byte %d) are torn and not replayed", c.TornBytes, c.Segment, c.WholeBlocks)
	}
	return s
}

// ended records how the journal ended (at io.EOF).
func (s *journalSource) ended() {
	seg, at, n := s.r.Trailing()
	if end := s.Kinds[runjournal.KindName(runjournal.RecEnd)] > 0; !end || n > 0 {
		s.Cut = &JournalCut{EndRecord: end, Segment: seg, WholeBlocks: at, TornBytes: n}
	}
}

// openJournal opens a run's journal and reads its meta record, returning the
// source (positioned after the meta record) and the recorded profile text.
func openJournal(dir string, syms *record.Symbols) (*journalSource, []byte, error) {
	r, meta, err := runjournal.OpenMeta(dir)
	if err != nil {
		return nil, nil, err
	}
	return &journalSource{r: r, syms: syms, remap: map[uint32]uint32{}, Kinds: map[string]uint64{"meta": 1}}, meta, nil
}

// Close releases the journal reader.
func (s *journalSource) Close() error { return s.r.Close() }

// Next implements Source.
func (s *journalSource) Next(dst []record.MarketTick) (int, error) {
	n := 0
	for n < len(dst) {
		kind, off, payload, err := s.r.Next()
		if err != nil {
			if errors.Is(err, io.EOF) {
				if n > 0 {
					return n, nil
				}
				s.ended()
			}
			return n, err
		}
		s.Kinds[runjournal.KindName(kind)]++
		switch kind {
		case runjournal.RecSymbol:
			id, name, err := decodeSymbol(payload)
			if err != nil {
				return n, fmt.Errorf("journal record %d: %w", off, err)
			}
			nid, err := s.syms.Intern(name)
			if err != nil {
				return n, fmt.Errorf("journal record %d: %w", off, err)
			}
			s.remap[id] = nid
		case runjournal.RecTick:
			t := &dst[n]
			if err := record.DecodeTick(payload, t); err != nil {
				return n, fmt.Errorf("journal record %d: %w", off, err)
			}
			if t.Symbol != 0 {
				nid, ok := s.remap[t.Symbol]
				if !ok {
					return n, fmt.Errorf("journal record %d: tick names symbol %d before its symbol record", off, t.Symbol)
				}
				t.Symbol = nid
			}
			n++
		case runjournal.RecRouter:
			rc, err := config.ParseRouter(payload, fmt.Sprintf("journal record %d", off))
			if err != nil {
				return n, err
			}
			if s.OnRouter != nil {
				s.OnRouter(*rc)
			}
		case runjournal.RecOperator:
			op, err := decodeOp(payload)
			if err != nil {
				return n, fmt.Errorf("journal record %d: %w", off, err)
			}
			if s.OnOperator != nil {
				s.OnOperator(op)
			}
		case runjournal.RecControl:
			if err := decodeControl(payload, &dst[n]); err != nil {
				return n, fmt.Errorf("journal record %d: %w", off, err)
			}
			if dst[n].Action == record.ControlHalt {
				nid, ok := s.remap[uint32(dst[n].Seq)]
				if !ok {
					return n, fmt.Errorf("journal record %d: a halt names symbol %d before its symbol record", off, dst[n].Seq)
				}
				dst[n].Seq, dst[n].Symbol = uint64(nid), nid
			}
			n++
		case runjournal.RecMeta:
			return n, fmt.Errorf("journal record %d: a second meta record: two runs in one journal", off)
		}
	}
	return n, nil
}
