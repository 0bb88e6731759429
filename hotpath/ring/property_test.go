package ring

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"thunderline/hotpath/record"
)

// checkModel interprets prog as a sequence of operations on r (from one
// goroutine) and on a slice-backed model queue of the same capacity, and
// returns an error at the first difference. Each operation takes two bytes:
// an opcode and an argument (a batch size).
func checkModel(r fifo[record.MarketTick], prog []byte) error {
	capacity := r.Cap()
	var model []record.MarketTick
	var next uint64
	buf := make([]record.MarketTick, 2*capacity+1)
	for pc := 0; pc+1 < len(prog); pc += 2 {
		op, arg := prog[pc]%5, int(prog[pc+1])%len(buf)
		switch op {
		case 0: // Push
			tick := mkTick(2, next)
			ok := r.Push(&tick)
			if want := len(model) < capacity; ok != want {
				return fmt.Errorf("op %d Push = %v with %d of %d held", pc/2, ok, len(model), capacity)
			}
			if ok {
				model = append(model, tick)
				next++
			}
		case 1: // PushBatch of arg (may be 0, may exceed the free space)
			for i := range arg {
				buf[i] = mkTick(2, next+uint64(i))
			}
			n := r.PushBatch(buf[:arg])
			if want := min(arg, capacity-len(model)); n != want {
				return fmt.Errorf("op %d PushBatch(%d) = %d, want %d", pc/2, arg, n, want)
			}
			model = append(model, buf[:n]...)
			next += uint64(n)
		case 2: // Pop
			var got record.MarketTick
			ok := r.Pop(&got)
			if ok != (len(model) > 0) {
				return fmt.Errorf("op %d Pop = %v with %d held", pc/2, ok, len(model))
			}
			if ok {
				if got != model[0] {
					return fmt.Errorf("op %d Pop = seq %d, want seq %d", pc/2, got.InSeq, model[0].InSeq)
				}
				model = model[1:]
			}
		case 3: // PopBatch into arg slots
			n := r.PopBatch(buf[:arg])
			if want := min(arg, len(model)); n != want {
				return fmt.Errorf("op %d PopBatch(%d) = %d, want %d", pc/2, arg, n, want)
			}
			for i := range n {
				if buf[i] != model[i] {
					return fmt.Errorf("op %d PopBatch[%d] = seq %d, want seq %d", pc/2, i, buf[i].InSeq, model[i].InSeq)
				}
			}
			model = model[n:]
		case 4: // Len, and Peek on the rings that have it
			if got := r.Len(); got != len(model) {
				return fmt.Errorf("op %d Len = %d, want %d", pc/2, got, len(model))
			}
			if pk, ok := r.(interface{ Peek() *record.MarketTick }); ok {
				got := pk.Peek()
				if (got != nil) != (len(model) > 0) {
					return fmt.Errorf("op %d Peek = %v with %d held", pc/2, got != nil, len(model))
				}
				if got != nil && *got != model[0] {
					return fmt.Errorf("op %d Peek = seq %d, want seq %d", pc/2, got.InSeq, model[0].InSeq)
				}
			}
		}
	}
	if got := r.Len(); got != len(model) {
		return fmt.Errorf("final Len = %d, want %d", got, len(model))
	}
	return nil
}

// newModelRings returns fresh rings for a property run; base picks where the
// indexes start (near the uint64 wrap when odd).
func newModelRings(t testing.TB, capacity int, nearWrapStart bool) map[string]fifo[record.MarketTick] {
	s, err := NewSPSC[record.MarketTick](capacity)
	if err != nil {
		t.Fatal(err)
	}
	m, err := NewMPSC[record.MarketTick](capacity)
	if err != nil {
		t.Fatal(err)
	}
	if nearWrapStart {
		startSPSCAt(s, nearWrap)
		startMPSCAt(m, nearWrap)
	}
	return map[string]fifo[record.MarketTick]{"SPSC": s, "MPSC": m}
}

// TestModel runs random operation sequences (seeded, so a failure names a
// reproducible seed) against the model queue.
func TestModel(t *testing.T) {
	seeds := 300
	if raceEnabled || testing.Short() {
		seeds = 60
	}
	prog := make([]byte, 2000)
	for seed := range seeds {
		rng := rand.New(rand.NewPCG(uint64(seed), 0x7ea))
		for i := range prog {
			prog[i] = byte(rng.Uint32())
		}
		capacity := 2 << rng.IntN(6) // 2..64
		for name, r := range newModelRings(t, capacity, seed%2 == 1) {
			if err := checkModel(r, prog); err != nil {
				t.Fatalf("%s cap %d seed %d: %v", name, capacity, seed, err)
			}
		}
	}
}

// FuzzModel lets `go test -fuzz FuzzModel` search for operation sequences on
// which a ring and the model disagree; the seed corpus runs as a plain test.
func FuzzModel(f *testing.F) {
	f.Add(uint8(0), []byte{0, 0, 0, 0, 0, 0, 2, 0, 1, 5, 3, 7, 4, 0})
	f.Add(uint8(3), []byte{1, 200, 3, 3, 1, 9, 3, 200, 0, 0, 2, 0, 4, 0})
	f.Add(uint8(1), []byte{1, 3, 2, 0, 1, 3, 3, 1, 3, 9, 4, 4})
	f.Fuzz(func(t *testing.T, capExp uint8, prog []byte) {
		capacity := 2 << (capExp % 7)
		for name, r := range newModelRings(t, capacity, capExp&0x80 != 0) {
			if err := checkModel(r, prog); err != nil {
				t.Fatalf("%s cap %d: %v", name, capacity, err)
			}
		}
	})
}
