package record

import "fmt"

// MaxSymbols bounds the symbol table so that per-symbol state on the hot path
// can live in flat slices indexed by symbol id.
const MaxSymbols = 1 << 16

// Symbols interns symbol names to dense ids, starting at 1 (0 means unknown).
// Interning happens off the hot path, when an adapter learns a symbol; ticks
// carry the id only. Not safe for concurrent writers; readers may call Name
// and Len concurrently once interning is done.
type Symbols struct {
	names []string
	ids   map[string]uint32
}

// NewSymbols returns an empty table.
func NewSymbols() *Symbols {
	return &Symbols{names: []string{""}, ids: make(map[string]uint32)}
}

// Intern returns the id of name, adding it if new.
func (s *Symbols) Intern(name string) (uint32, error) {
	if id, ok := s.ids[name]; ok {
		return id, nil
	}
	if len(s.names) >= MaxSymbols {
		return 0, fmt.Errorf("intern symbol %q: table full (%d symbols)", name, MaxSymbols-1)
	}
	id := uint32(len(s.names))
	s.names = append(s.names, name)
	s.ids[name] = id
	return id, nil
}

// Lookup returns the id of name, or 0 if it is not interned.
func (s *Symbols) Lookup(name string) uint32 { return s.ids[name] }

// Name returns the name of id, or "" if id is unknown.
func (s *Symbols) Name(id uint32) string {
	if int(id) < len(s.names) {
		return s.names[id]
	}
	return ""
}

// Len returns the number of ids in use, including the reserved id 0.
func (s *Symbols) Len() int { return len(s.names) }

// Known reports whether id names an interned symbol.
func (s *Symbols) Known(id uint32) bool { return id != 0 && int(id) < len(s.names) }
