package postgres

import "testing"

// FuzzBatchAdd: any record, whatever its bytes, becomes exactly one row
// (a rejects row when it does not decode), and never a panic.
func FuzzBatchAdd(f *testing.F) {
	g := newGenJournal(f, "fuzz")
	g.windows(2)
	g.malformed()
	g.end()
	r := openReader(f, g.dir)
	for {
		kind, _, p, err := r.Next()
		if err != nil {
			break
		}
		f.Add(kind, append([]byte(nil), p...))
	}
	r.Close()
	f.Fuzz(func(t *testing.T, kind uint8, payload []byte) {
		s, err := NewShipper(nil, ShipperOptions{Dir: "d", Tenant: "fuzz"})
		if err != nil {
			t.Fatal(err)
		}
		s.symbols = map[uint32]string{0: "ESZ6", 1: "NQZ6"}
		b := newBatch(s, 7)
		b.add(kind, 7, payload)
		rows := 0
		for i := range b.rows {
			for _, row := range b.rows[i] {
				rows++
				if len(row) != len(tables[i].cols) {
					t.Fatalf("%s row of %d values for %d columns", tables[i].name, len(row), len(tables[i].cols))
				}
			}
		}
		want := 1
		if kind == recEdgarRaw {
			want = 0 // raw document bytes stay in the journal; the EDGARDoc record carries their sha256
		}
		if rows != want || b.n != 1 || b.end != 8 {
			t.Fatalf("kind %d: %d rows, n %d, end %d", kind, rows, b.n, b.end)
		}
	})
}
