package ring

import (
	"errors"
	"fmt"
	"reflect"
	"unsafe"
)

// cacheLine is the size of a cache line on amd64 and arm64 (the targets of the
// hot path), the unit padding separates.
const cacheLine = 64

// ErrCapacity is wrapped by the constructors when the capacity is not a power
// of two of at least 2.
var ErrCapacity = errors.New("capacity must be a power of two >= 2")

func checkCapacity(capacity int) error {
	if capacity < 2 || capacity&(capacity-1) != 0 {
		return fmt.Errorf("ring: capacity %d: %w", capacity, ErrCapacity)
	}
	return nil
}

// needsClear reports whether slots of type T must be zeroed when consumed, so
// that a ring does not keep the garbage collector from freeing what a
// consumed value pointed to. Pointer-free types such as record.MarketTick skip
// the extra write.
func needsClear[T any]() bool {
	return hasPointers(reflect.TypeFor[T]())
}

func hasPointers(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Bool,
		reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64, reflect.Complex64, reflect.Complex128:
		return false
	case reflect.Array:
		return t.Len() > 0 && hasPointers(t.Elem())
	case reflect.Struct:
		for i := range t.NumField() {
			if hasPointers(t.Field(i).Type) {
				return true
			}
		}
		return false
	default: // pointer, string, slice, map, chan, func, interface, unsafe.Pointer
		return true
	}
}

// pageSize is the smallest page the kernel maps (4 KiB on amd64 and arm64
// Linux; a larger page is still touched at least once).
const pageSize = 4096

// prefault writes a zero into every page of s (already zero: the values do
// not change), so the kernel maps the ring's memory when it is built, not
// on the hot path's first pass over each page: Go's heap memory fresh from
// the OS is mapped lazily, and an output ring of 8 MB written 17 slots a
// batch takes a page fault every few batches for two minutes (a fault is
// microseconds on a VM). bench/RESULTS.md has the A/B.
func prefault[T any](s []T) {
	if len(s) == 0 {
		return
	}
	n := len(s) * int(unsafe.Sizeof(s[0]))
	if n == 0 {
		return
	}
	b := unsafe.Slice((*byte)(unsafe.Pointer(&s[0])), n)
	for i := 0; i < n; i += pageSize {
		b[i] = 0
	}
	b[n-1] = 0
}

// TouchLines reads one byte of every cache line of s and returns their sum
// (so the reads are kept): a cache warm-up of the rings' Touch and of the
// decision stage's own buffers (decide.Stage.Warm).
func TouchLines[T any](s []T) (sum byte) {
	if len(s) == 0 {
		return 0
	}
	n := len(s) * int(unsafe.Sizeof(s[0]))
	if n == 0 {
		return 0
	}
	b := unsafe.Slice((*byte)(unsafe.Pointer(&s[0])), n)
	for i := 0; i < n; i += cacheLine {
		sum += b[i]
	}
	return sum + b[n-1]
}

// touchAhead reads the n slots of a ring's slots from position t on,
// wrapping (mask is len(slots)-1), at most the whole ring: Touch of both
// ring types.
func touchAhead[S any](slots []S, t, mask uint64, n int) (sum byte) {
	for i := range uint64(min(n, len(slots))) {
		k := (t + i) & mask
		sum += TouchLines(slots[k : k+1])
	}
	return sum
}
