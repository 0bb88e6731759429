package postgres

import (
	"strings"
	"testing"
	"time"
)

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
	if o := (ShipperOptions{Dir: "d", Tenant: "t"}).WithDefaults(); o.BatchSize != 16384 || o.MaxDelay != 200*time.Millisecond ||
		!strings.HasSuffix(o.JournalID, "/d") {
		t.Errorf("defaults %+v", o)
	}
}

// TestShipperBackoff: the wait after failed batches doubles from MinBackoff
// up to MaxBackoff, without jitter, and starts over after a batch lands.
func TestShipperBackoff(t *testing.T) {
	s, err := NewShipper(nil, ShipperOptions{Dir: "d", Tenant: "t", MinBackoff: 50 * time.Millisecond, MaxBackoff: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	bo := s.newBackoff()
	ms := time.Millisecond
	for i, want := range []time.Duration{50 * ms, 100 * ms, 200 * ms, 400 * ms, 800 * ms, time.Second, time.Second} {
		if got := bo.NextBackOff(); got != want {
			t.Fatalf("wait %d: %v, want %v", i, got, want)
		}
	}
	bo.Reset()
	if got := bo.NextBackOff(); got != 50*ms {
		t.Fatalf("wait after Reset: %v, want 50ms", got)
	}
}
