package tickarchive

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/parquet-go/parquet-go"
)

// MaxRows is the most rows Read accepts in a file (the shipper writes far
// fewer): a footer claiming more is refused before anything is read.
const MaxRows = 1 << 24

// Filter picks rows: Symbol ("" any) with event times in [From, To] (ns;
// To 0 means no upper bound).
type Filter struct {
	Symbol   string
	From, To int64
}

func (f Filter) match(r *Row) bool {
	return (f.Symbol == "" || r.Symbol == f.Symbol) && r.TsEvent >= f.From && (f.To == 0 || r.TsEvent <= f.To)
}

// Read reads every row of an archive file. A file that is not one (torn,
// corrupt, another schema) is an error naming what is wrong, never a panic.
func Read(r io.ReaderAt, size int64) ([]Row, error) { return Select(r, size, Filter{}) }

// ReadBytes is Read of a file held in memory.
func ReadBytes(b []byte) ([]Row, error) { return Read(bytes.NewReader(b), int64(len(b))) }

// Select reads the rows of an archive file that f picks, in the file's
// order (symbol, then event time). Row groups whose statistics exclude
// the symbol or the time range are skipped unread. Errors as Read's.
func Select(r io.ReaderAt, size int64, f Filter) (rows []Row, err error) {
	defer func() {
		if p := recover(); p != nil { // the library on hostile bytes
			rows, err = nil, fmt.Errorf("tickarchive: not a readable archive file: %v", p)
		}
	}()
	pf, err := parquet.OpenFile(r, size)
	if err != nil {
		return nil, fmt.Errorf("tickarchive: open: %w", err)
	}
	if want := parquet.SchemaOf(Row{}); !sameColumns(pf.Schema(), want) {
		return nil, fmt.Errorf("tickarchive: schema %s is not the tick archive's", pf.Schema())
	}
	total := pf.NumRows()
	if total < 0 || total > MaxRows {
		return nil, fmt.Errorf("tickarchive: the file says %d rows: more than %d", total, MaxRows)
	}
	symCol, tsCol := columnIndex(pf.Schema(), "symbol"), columnIndex(pf.Schema(), "ts_event")
	var chunk []Row
	var seen int64
	for i, rg := range pf.RowGroups() {
		n := rg.NumRows()
		if n < 0 || seen+n > total {
			return nil, fmt.Errorf("tickarchive: row group %d says %d rows, beyond the file's %d", i, n, total)
		}
		seen += n
		if skip(rg, symCol, tsCol, f) {
			continue
		}
		if chunk == nil {
			chunk = make([]Row, 4096)
		}
		got, err := readGroup(rg, chunk, n, f, rows)
		if err != nil {
			return nil, fmt.Errorf("tickarchive: row group %d: %w", i, err)
		}
		rows = got
	}
	if seen != total {
		return nil, fmt.Errorf("tickarchive: row groups hold %d rows, the file says %d", seen, total)
	}
	return rows, nil
}

// readGroup appends to rows the rows of rg (n of them) that f picks.
func readGroup(rg parquet.RowGroup, chunk []Row, n int64, f Filter, rows []Row) ([]Row, error) {
	pr := parquet.NewGenericRowGroupReader[Row](rg)
	defer pr.Close()
	var read int64
	for read < n {
		k, err := pr.Read(chunk[:min(int64(len(chunk)), n-read)])
		read += int64(k)
		for i := range chunk[:k] {
			if f.match(&chunk[i]) {
				rows = append(rows, chunk[i])
			}
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("read rows: %w", err)
		}
		if k == 0 {
			return nil, fmt.Errorf("no progress after %d of %d rows", read, n)
		}
	}
	if read != n {
		return nil, fmt.Errorf("read %d of %d rows", read, n)
	}
	return rows, nil
}

// skip says whether rg's column statistics show it holds nothing f picks.
// Without statistics nothing is skipped.
func skip(rg parquet.RowGroup, symCol, tsCol int, f Filter) bool {
	cols := rg.ColumnChunks()
	if symCol < 0 || tsCol < 0 || symCol >= len(cols) || tsCol >= len(cols) {
		return false
	}
	type bounded interface {
		Bounds() (lo, hi parquet.Value, ok bool)
	}
	if b, ok := cols[symCol].(bounded); ok && f.Symbol != "" {
		if lo, hi, ok := b.Bounds(); ok && lo.Kind() == parquet.ByteArray && hi.Kind() == parquet.ByteArray &&
			(f.Symbol < string(lo.ByteArray()) || f.Symbol > string(hi.ByteArray())) {
			return true
		}
	}
	if b, ok := cols[tsCol].(bounded); ok {
		if lo, hi, ok := b.Bounds(); ok && lo.Kind() == parquet.Int64 && hi.Kind() == parquet.Int64 &&
			(hi.Int64() < f.From || (f.To != 0 && lo.Int64() > f.To)) {
			return true
		}
	}
	return false
}

// columnIndex is the leaf index of the top-level column name.
func columnIndex(s *parquet.Schema, name string) int {
	for i, path := range s.Columns() {
		if len(path) == 1 && path[0] == name {
			return i
		}
	}
	return -1
}

func sameColumns(a, b *parquet.Schema) bool {
	ca, cb := a.Columns(), b.Columns()
	if len(ca) != len(cb) {
		return false
	}
	for i := range ca {
		if !slices.Equal(ca[i], cb[i]) {
			return false
		}
	}
	return true
}
