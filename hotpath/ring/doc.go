// Package ring owns the bounded, lock-free queues of the hot path: SPSC for
// one producer and one consumer (feed adapter → partition loop) and MPSC for
// fan-in (partitions → journal writer). Ticks travel through rings, never
// through channels: a channel send takes a lock and may park a goroutine on
// every item, where a ring costs an atomic load and a release store per item,
// or per batch with PushBatch and PopBatch (see ring_bench_test.go for the
// measured ratios).
//
// What it must never do:
//
//   - Allocate after construction. The slots are one []T slab made by the
//     constructor; Push, PushBatch, Pop and PopBatch copy values in and out of
//     it and allocate nothing (tests prove it with testing.AllocsPerRun).
//   - Block. A full ring makes Push return false and an empty ring makes Pop
//     return false, at once: a full ring is backpressure, and the caller
//     decides whether to wait, shed or count the refusal. Nothing is dropped
//     silently. Backoff is an optional helper for loops that choose to wait;
//     it lives outside the per-item path.
//   - Import anything but the standard library, or any other package of the
//     project.
//
// # Memory ordering
//
// Indexes are uint64 counters that only grow (they would wrap after 2^64
// items); a slot is index & (capacity-1). Every index or sequence number that
// hands slots to the other side is written with publish, a release store (a
// plain MOV on amd64, sync/atomic's Store elsewhere and under -race; see
// release_amd64.go for why), and read with atomic Load, an acquire load.
//
// SPSC: the producer writes slots, then publishes tail; the consumer reads a
// slot only below a tail value it has loaded, so it sees the slot's contents.
// The consumer reads slots, then publishes head; the producer overwrites a slot
// only below head+capacity for a head value it has loaded, so it never
// overwrites a value still being read. Each side keeps a plain cached copy of
// the other side's index (headCache, tailCache) and reloads the atomic only
// when the cache says the ring is full (or empty), so in steady state neither
// side touches the other's cache line. PushBatch and PopBatch move a whole
// batch with one release store.
//
// MPSC: producers claim positions with a compare-and-swap on tail, after
// checking against (a cached lower bound of) head that the position is free;
// each producer then writes its slot and publishes the slot's sequence number,
// position+1. The consumer reads a slot only once its sequence equals
// position+1, so it never sees a claimed but unwritten slot, and it hands slots
// back by publishing head once per Pop or PopBatch; a producer writes a slot
// only after loading a head (directly, or through headCache, which another
// producer stored after loading head) that has passed the slot's previous lap.
//
// Head and tail each sit on their own 64-byte cache line, away from the
// read-only fields, so the producer and the consumer do not invalidate each
// other's lines on every operation (false sharing).
package ring
