package engine

import (
	"bufio"
	"fmt"
	"os"
	"strings"

	"thunderline/adapters/inputfile"
	"thunderline/adapters/itch"
	"thunderline/hotpath/record"
)

// isITCHFile reports whether p is a Nasdaq TotalView-ITCH 5.0 input: a
// framed file (named *NASDAQ_ITCH50*, *.itch or *.itch50) or a capture of
// MoldUDP64 datagrams (*.pcap, *.pcapng).
func isITCHFile(p string) bool {
	l := strings.ToLower(p)
	return strings.Contains(l, "nasdaq_itch50") || strings.HasSuffix(l, ".itch") || strings.HasSuffix(l, ".itch50") ||
		strings.HasSuffix(l, ".pcap") || strings.HasSuffix(l, ".pcapng")
}

// itchSource plays ITCH files in the order given, one itch.Source each
// (its session state: directory, orders, halts), into one symbol table.
// A framed file's session day comes from its name (MMDDYYYY or YYYYMMDD);
// a capture's from its first packet.
type itchSource struct {
	paths  []string
	syms   *record.Symbols
	i      int
	f      *os.File
	src    *itch.Source
	counts itch.Counts
}

func newITCHSource(paths []string, syms *record.Symbols) (*itchSource, error) {
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("itch input: %w", err)
		}
		if !st.Mode().IsRegular() { // a FIFO would block open and ignore SIGTERM
			return nil, fmt.Errorf("itch input %s: %w", p, inputfile.ErrNotRegular)
		}
	}
	return &itchSource{paths: paths, syms: syms}, nil
}

func (s *itchSource) open() error {
	p := s.paths[s.i]
	f, _, err := inputfile.Open(p, inputfile.Options{What: "itch input"})
	if err != nil {
		return err
	}
	var r itch.MessageReader
	var opts itch.SourceOptions
	l := strings.ToLower(p)
	if strings.HasSuffix(l, ".pcap") || strings.HasSuffix(l, ".pcapng") {
		cr, err := itch.NewCaptureReader(bufio.NewReaderSize(f, 1<<16))
		if err != nil {
			f.Close()
			return fmt.Errorf("itch input %s: %w", p, err)
		}
		r = cr
	} else {
		day, ok := itch.DateFromName(p)
		if !ok {
			f.Close()
			return fmt.Errorf("itch input %s: the session day is not in the name (MMDDYYYY or YYYYMMDD, as Nasdaq names its files)", p)
		}
		r, opts.Date = itch.NewFileReader(bufio.NewReaderSize(f, 1<<16)), day
	}
	s.f, s.src = f, itch.NewSource(r, s.syms, opts)
	return nil
}

func (s *itchSource) closeFile() {
	c := s.src.Counts()
	s.counts.Add(&c)
	s.f.Close()
	s.f, s.src = nil, nil
	s.i++
}

// Next implements Source.
func (s *itchSource) Next(dst []record.MarketTick) (int, error) {
	return chainNext(dst, "itch", s.paths, &s.i, func() Source {
		if s.src == nil {
			return nil
		}
		return s.src
	}, s.open, s.closeFile)
}

// Counts returns what the finished files held: messages by type, refusals
// and the session semantics (unknown order references, halts).
func (s *itchSource) Counts() map[string]uint64 { return s.counts.Map() }
