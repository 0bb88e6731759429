package ring

import (
	"testing"
	"time"
)

func TestBackoff(t *testing.T) {
	var b Backoff
	// Spin and yield steps return promptly; count them through the ladder.
	for range BackoffSpins + BackoffYields {
		b.Wait()
	}
	if b.n != BackoffSpins+BackoffYields {
		t.Fatalf("after spins and yields n = %d", b.n)
	}
	// The next call sleeps at least the minimum.
	start := time.Now()
	b.Wait()
	if d := time.Since(start); d < BackoffMinSleep {
		t.Fatalf("first sleep step took %v, want >= %v", d, BackoffMinSleep)
	}
	// The step count saturates instead of growing (and the sleep is capped).
	for range 20 {
		b.n = BackoffSpins + BackoffYields + maxShift
		b.Wait()
	}
	if b.n != BackoffSpins+BackoffYields+maxShift {
		t.Fatalf("n grew past the last step: %d", b.n)
	}
	b.Reset()
	if b.n != 0 {
		t.Fatalf("Reset left n = %d", b.n)
	}
}
