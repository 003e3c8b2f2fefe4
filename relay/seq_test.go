package relay

import (
	"testing"
	"time"
)

func TestUnwrapSeq(t *testing.T) {
	for _, tt := range []struct {
		seq  uint16
		ref  uint64
		want uint64
	}{
		{5, firstExt + 5, firstExt + 5},
		{6, firstExt + 5, firstExt + 6},
		{4, firstExt + 5, firstExt + 4},
		{0, firstExt + 65535, 2 * firstExt},         // forward across the wrap
		{65535, 2 * firstExt, firstExt + 65535},     // back across it
		{32767, firstExt, firstExt + 32767},         // the farthest ahead
		{32768, firstExt, firstExt - 32768},         // the farthest behind
		{100, 5*firstExt + 65500, 6*firstExt + 100}, // after several wraps
	} {
		if got := unwrapSeq(tt.seq, tt.ref); got != tt.want {
			t.Errorf("unwrapSeq(%d, %d) = %d, want %d", tt.seq, tt.ref, got, tt.want)
		}
	}
}

func TestTicks(t *testing.T) {
	for _, tt := range []struct {
		dt   time.Duration
		rate uint32
		want int64
	}{
		{time.Second, 90000, 90000},
		{20 * time.Millisecond, 48000, 960},
		{-100 * time.Millisecond, 90000, -9000},
		{30 * 24 * time.Hour, 90000, 30 * 24 * 3600 * 90000}, // no overflow
		{time.Microsecond, 90000, 0},
	} {
		if got := ticks(tt.dt, tt.rate); got != tt.want {
			t.Errorf("ticks(%v, %d) = %d, want %d", tt.dt, tt.rate, got, tt.want)
		}
	}
}
