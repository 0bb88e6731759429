package postgres

import (
	"strings"
	"testing"
	"time"
)

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

func TestShipperOptionsValidate(t *testing.T) {
	f := func(o ShipperOptions, want string) {
		t.Helper()
		err := o.WithDefaults().Validate()
		if want == "" && err != nil || want != "" && (err == nil || !strings.Contains(err.Error(), want)) {
			t.Errorf("%+v: %v, want %q", o, err, want)
		}
	}
	f(ShipperOptions{Dir: "d", Tenant: "t"}, "")
	f(ShipperOptions{Tenant: "t"}, "dir")
	f(ShipperOptions{Dir: "d"}, "tenant")
	f(ShipperOptions{Dir: "d", Tenant: "t", BatchSize: -1}, "batch_size")
	f(ShipperOptions{Dir: "d", Tenant: "t", MaxDelay: -time.Second}, "max_delay")
	f(ShipperOptions{Dir: "d", Tenant: "t", MinBackoff: time.Second, MaxBackoff: time.Millisecond}, "backoff")
	if o := (ShipperOptions{Dir: "d", Tenant: "t"}).WithDefaults(); o.BatchSize != 4096 || o.MaxDelay != 200*time.Millisecond ||
		!strings.HasSuffix(o.JournalID, "/d") {
		t.Errorf("defaults %+v", o)
	}
}
