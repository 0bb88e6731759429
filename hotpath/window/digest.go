package window

import (
	"crypto/sha256"
	"encoding/binary"
	"sort"

	"thunderline/hotpath/record"
)

// Digest folds hashes per symbol, in the order a symbol's partition produced
// them: h' = sha256(h || hash). A symbol always lives in one partition and
// its windows close in event-time order there, so each chain is the same
// whatever the number of partitions; Sum then combines the chains in symbol
// name order.
type Digest struct {
	chains []*chain // by symbol id
}

type chain struct {
	h [32]byte
	n uint64
}

// NewDigest returns an empty digest.
func NewDigest() *Digest { return &Digest{chains: make([]*chain, record.MaxSymbols)} }

// Add folds hash into sym's chain. It allocates once per new symbol.
func (d *Digest) Add(sym uint32, hash *[32]byte) {
	if sym >= record.MaxSymbols {
		return
	}
	c := d.chains[sym]
	if c == nil {
		c = &chain{}
		d.chains[sym] = c
	}
	var buf [64]byte
	copy(buf[:32], c.h[:])
	copy(buf[32:], hash[:])
	c.h = sha256.Sum256(buf[:])
	c.n++
}

// Count returns the number of hashes folded in.
func (d *Digest) Count() uint64 {
	var n uint64
	for _, c := range d.chains {
		if c != nil {
			n += c.n
		}
	}
	return n
}

// SymbolCount is the number of hashes of one symbol, for summaries.
type SymbolCount struct {
	Symbol string
	Count  uint64
}

// Sum combines the chains of every digest given (the partitions of one run)
// into one sha256: for each symbol in name order, its name, count and chain.
// It also returns the per-symbol counts in the same order.
func Sum(syms *record.Symbols, parts ...*Digest) ([32]byte, []SymbolCount) {
	type entry struct {
		name string
		c    chain
	}
	var all []entry
	for _, d := range parts {
		for id, c := range d.chains {
			if c != nil {
				all = append(all, entry{syms.Name(uint32(id)), *c})
			}
		}
	}
	sort.Slice(all, func(i, j int) bool { return all[i].name < all[j].name })
	h := sha256.New()
	counts := make([]SymbolCount, 0, len(all))
	var n [8]byte
	for _, e := range all {
		binary.LittleEndian.PutUint16(n[:2], uint16(len(e.name)))
		h.Write(n[:2])
		h.Write([]byte(e.name))
		binary.LittleEndian.PutUint64(n[:], e.c.n)
		h.Write(n[:])
		h.Write(e.c.h[:])
		counts = append(counts, SymbolCount{e.name, e.c.n})
	}
	var out [32]byte
	copy(out[:], h.Sum(nil))
	return out, counts
}
