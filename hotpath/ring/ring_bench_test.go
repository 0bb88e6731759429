package ring

import (
	"sync"
	"testing"

	"thunderline/hotpath/record"
)

// benchCap is the capacity of every ring and of the baseline channel.
const benchCap = 1024

// benchBatch is the batch size of the batch variants.
const benchBatch = 64

// BenchmarkTransfer moves b.N record.MarketTick values (104 bytes) from
// producer goroutines to a consumer goroutine through each ring and through a
// buffered channel of the same capacity, in one run, so ring/channel ratios
// can be read off a single `go test -bench Transfer` invocation. ns/op is per
// tick delivered. Waiting sides use Backoff, as a real loop would.
func BenchmarkTransfer(b *testing.B) {
	b.Run("Chan/p=1", func(b *testing.B) { benchChan(b, 1) })
	b.Run("SPSC/single", benchSPSCSingle)
	b.Run("SPSC/batch=64", benchSPSCBatch)
	b.Run("MPSC/p=1", func(b *testing.B) { benchMPSC(b, 1, 1) })
	b.Run("MPSC/p=1/popbatch=64", func(b *testing.B) { benchMPSC(b, 1, benchBatch) })
	b.Run("Chan/p=2", func(b *testing.B) { benchChan(b, 2) })
	b.Run("MPSC/p=2", func(b *testing.B) { benchMPSC(b, 2, 1) })
	b.Run("MPSC/p=2/popbatch=64", func(b *testing.B) { benchMPSC(b, 2, benchBatch) })
}

// share splits n items over producers; producer 0 takes the remainder.
func share(n, producers, p int) int {
	s := n / producers
	if p == 0 {
		s += n % producers
	}
	return s
}

// run starts producers goroutines running produce(p, count), runs consume
// (which must receive b.N ticks and return the sum of their InSeq) on the
// benchmark goroutine, and checks the sum.
func run(b *testing.B, producers int, produce func(p, count int), consume func() uint64) {
	b.ReportAllocs()
	b.SetBytes(record.TickSize)
	var want uint64
	for p := range producers {
		c := uint64(share(b.N, producers, p))
		want += c * (c - 1) / 2
	}
	var wg sync.WaitGroup
	b.ResetTimer()
	for p := range producers {
		wg.Go(func() { produce(p, share(b.N, producers, p)) })
	}
	got := consume()
	wg.Wait()
	b.StopTimer()
	if got != want {
		b.Fatalf("consumer InSeq sum = %d, want %d", got, want)
	}
}

func benchChan(b *testing.B, producers int) {
	ch := make(chan record.MarketTick, benchCap)
	run(b, producers, func(p, count int) {
		tick := mkTick(uint16(p), 0)
		for i := range count {
			tick.InSeq = uint64(i)
			ch <- tick
		}
	}, func() uint64 {
		var sum uint64
		for range b.N {
			tick := <-ch
			sum += tick.InSeq
		}
		return sum
	})
}

func benchSPSCSingle(b *testing.B) {
	r, err := NewSPSC[record.MarketTick](benchCap)
	if err != nil {
		b.Fatal(err)
	}
	run(b, 1, func(p, count int) { pushEach(p, count, r.Push) }, func() uint64 { return popEach(b.N, r.Pop) })
}

// pushEach pushes count ticks of producer p, InSeq 0 to count-1, one at a
// time, waiting while the ring is full.
func pushEach(p, count int, push func(*record.MarketTick) bool) {
	tick := mkTick(uint16(p), 0)
	var bo Backoff
	for i := 0; i < count; {
		tick.InSeq = uint64(i)
		if push(&tick) {
			i++
			bo.Reset()
		} else {
			bo.Wait()
		}
	}
}

// popEach pops n ticks one at a time and returns the sum of their InSeq.
func popEach(n int, pop func(*record.MarketTick) bool) uint64 { return popEachWait(n, pop, &Backoff{}) }

// popEachWait is popEach waiting with bo (which may park on a Waiter).
func popEachWait(n int, pop func(*record.MarketTick) bool, bo *Backoff) uint64 {
	var sum uint64
	var tick record.MarketTick
	for i := 0; i < n; {
		if pop(&tick) {
			sum += tick.InSeq
			i++
			bo.Reset()
		} else {
			bo.Wait()
		}
	}
	return sum
}

func benchSPSCBatch(b *testing.B) {
	r, err := NewSPSC[record.MarketTick](benchCap)
	if err != nil {
		b.Fatal(err)
	}
	run(b, 1, func(_, count int) {
		batch := make([]record.MarketTick, benchBatch)
		for i := range batch {
			batch[i] = mkTick(0, 0)
		}
		var bo Backoff
		for i := 0; i < count; {
			k := min(benchBatch, count-i)
			for j := range k {
				batch[j].InSeq = uint64(i + j)
			}
			for off := 0; off < k; {
				if n := r.PushBatch(batch[off:k]); n > 0 {
					off += n
					bo.Reset()
				} else {
					bo.Wait()
				}
			}
			i += k
		}
	}, func() uint64 {
		return popBatches(b.N, r.PopBatch)
	})
}

// popBatches drains n ticks with popBatch into one recycled batch slice.
func popBatches(n int, popBatch func([]record.MarketTick) int) uint64 {
	var sum uint64
	out := make([]record.MarketTick, benchBatch)
	var bo Backoff
	for i := 0; i < n; {
		k := popBatch(out)
		if k == 0 {
			bo.Wait()
			continue
		}
		bo.Reset()
		for j := range k {
			sum += out[j].InSeq
		}
		i += k
	}
	return sum
}

func benchMPSC(b *testing.B, producers, popBatch int) {
	r, err := NewMPSC[record.MarketTick](benchCap)
	if err != nil {
		b.Fatal(err)
	}
	run(b, producers, func(p, count int) { pushEach(p, count, r.Push) }, func() uint64 {
		if popBatch > 1 {
			return popBatches(b.N, r.PopBatch)
		}
		return popEach(b.N, r.Pop)
	})
}

// BenchmarkUncontended is Push then Pop on one goroutine: the cost of the
// operations themselves, without cross-core traffic.
func BenchmarkUncontended(b *testing.B) {
	tick := mkTick(0, 1)
	batch := make([]record.MarketTick, benchBatch)
	s, _ := NewSPSC[record.MarketTick](benchCap)
	m, _ := NewMPSC[record.MarketTick](benchCap)
	ch := make(chan record.MarketTick, benchCap)
	b.Run("Chan", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(record.TickSize)
		for b.Loop() {
			ch <- tick
			tick = <-ch
		}
	})
	for name, r := range map[string]fifo[record.MarketTick]{"SPSC": s, "MPSC": m} {
		b.Run(name+"/single", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(record.TickSize)
			for b.Loop() {
				r.Push(&tick)
				r.Pop(&tick)
			}
		})
		b.Run(name+"/batch=64", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(record.TickSize * benchBatch)
			for b.Loop() {
				r.PushBatch(batch)
				r.PopBatch(batch)
			}
		})
	}
}

// BenchmarkTransferWake is SPSC/single with the consumer parking on a Waiter
// and the producer calling Wake after every push, as the engine's loops do;
// "nowake" is the same loop without Wake, measured in the same run, so the
// ratio is the cost of Wake's fence on a live hand-off.
func BenchmarkTransferWake(b *testing.B) {
	for _, wake := range []bool{false, true} {
		name := "nowake"
		if wake {
			name = "wake"
		}
		b.Run(name, func(b *testing.B) {
			r, err := NewSPSC[record.MarketTick](benchCap)
			if err != nil {
				b.Fatal(err)
			}
			w := NewWaiter()
			push := r.Push
			if wake {
				push = func(t *record.MarketTick) bool {
					ok := r.Push(t)
					w.Wake()
					return ok
				}
			}
			run(b, 1, func(p, count int) { pushEach(p, count, push) }, func() uint64 {
				return popEachWait(b.N, r.Pop, &Backoff{Waiter: w, Check: func() bool { return r.Len() > 0 }})
			})
		})
	}
}

// BenchmarkWakeNotParked is Wake's cost when nobody is parked (the common
// case), against a bare load of the flag in the same run.
func BenchmarkWakeNotParked(b *testing.B) {
	w := NewWaiter()
	b.Run("load", func(b *testing.B) {
		b.ReportAllocs()
		n := 0
		for range b.N {
			if w.parked.Load() {
				n++
			}
		}
		_ = n
	})
	b.Run("wake", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			w.Wake()
		}
	})
}
