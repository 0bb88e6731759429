package ring

import (
	"errors"
	"fmt"
	"reflect"
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
