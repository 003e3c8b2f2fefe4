package simulcast

import (
	"math"
	"testing"
	"time"
)

// FuzzUpdate: whatever estimates and loss a watcher's RTCP claims (REMB
// carries an estimate up to 2^64 bits/s in its mantissa and exponent, a
// receiver report a loss fraction from 0 to 255/256), the selector returns
// a layer it has or Paused, and a pin holds.
func FuzzUpdate(f *testing.F) {
	f.Add(int64(5_000_000), 0.0, int64(time.Second), -1)
	f.Add(int64(60_000), 0.5, int64(0), 2)
	f.Add(int64(math.MaxInt64), 1.0, int64(-time.Hour), 0)
	f.Fuzz(func(t *testing.T, estimate int64, loss float64, step int64, pin int) {
		s, err := NewSelector(Config{Layers: layers})
		if err != nil {
			t.Fatal(err)
		}
		if pin >= 0 && s.Pin(pin) != nil {
			pin = -1
		}
		at := time.Unix(0, 0)
		for i := range 8 {
			at = at.Add(time.Duration(step))
			got, _ := s.Update(at, int(estimate>>i), loss)
			if got < Paused || got >= len(layers) {
				t.Fatalf("Update(%d, %v): layer %d of %d", estimate>>i, loss, got, len(layers))
			}
			if pin >= 0 && got != pin && got != Paused {
				t.Fatalf("pinned to %d: layer %d", pin, got)
			}
		}
	})
}
