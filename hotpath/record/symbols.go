package record

import (
	"fmt"
	"sync/atomic"
)

// MaxSymbols bounds the symbol table so that per-symbol state on the hot path
// can live in flat slices indexed by symbol id.
const MaxSymbols = 1 << 16

// Symbols interns symbol names to dense ids, starting at 1 (0 means unknown).
//
// One goroutine interns (the reader that decodes the input, off the hot path:
// once per new symbol); any number of goroutines may call Name, Len and
// Known concurrently. The name slab is allocated once and never moves; the
// count is published with an atomic store after the name is written, so a
// reader that learned an id through a ring (which is itself an atomic
// hand-off) always sees its name.
type Symbols struct {
	names []string // len MaxSymbols, fixed
	n     atomic.Uint32
	ids   map[string]uint32 // interning goroutine only
}

// NewSymbols returns an empty table.
func NewSymbols() *Symbols {
	s := &Symbols{names: make([]string, MaxSymbols), ids: make(map[string]uint32)}
	s.n.Store(1)
	return s
}

// Intern returns the id of name, adding it if new. Only one goroutine may
// intern.
func (s *Symbols) Intern(name string) (uint32, error) {
	if id, ok := s.ids[name]; ok {
		return id, nil
	}
	if name == "" {
		return 0, fmt.Errorf("intern symbol: empty name")
	}
	n := s.n.Load()
	if n >= MaxSymbols {
		return 0, fmt.Errorf("intern symbol %q: table full (%d symbols)", name, MaxSymbols-1)
	}
	s.names[n] = name
	s.ids[name] = n
	s.n.Store(n + 1)
	return n, nil
}

// Lookup returns the id of name, or 0 if it is not interned. Interning
// goroutine only.
func (s *Symbols) Lookup(name string) uint32 { return s.ids[name] }

// Name returns the name of id, or "" if id is unknown.
func (s *Symbols) Name(id uint32) string {
	if id < s.n.Load() {
		return s.names[id]
	}
	return ""
}

// Len returns the number of ids in use, including the reserved id 0.
func (s *Symbols) Len() int { return int(s.n.Load()) }

// Known reports whether id names an interned symbol.
func (s *Symbols) Known(id uint32) bool { return id != 0 && id < s.n.Load() }
