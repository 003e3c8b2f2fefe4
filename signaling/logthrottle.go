package signaling

import (
	"context"
	"log/slog"
	"sync/atomic"

	"golang.org/x/time/rate"
)

// Refusal logs are throttled: clients choose how often they are refused,
// so they must not choose how much the server logs.
const (
	refusalLogsPerSecond = 20
	refusalLogBurst      = 100
)

// throttledLog writes at most a token bucket's worth of records and counts
// the rest, reported as `suppressed` on the next record written.
type throttledLog struct {
	log        *slog.Logger
	lim        *rate.Limiter
	suppressed atomic.Int64
}

func newThrottledLog(log *slog.Logger) *throttledLog {
	return &throttledLog{log: log, lim: rate.NewLimiter(refusalLogsPerSecond, refusalLogBurst)}
}

// Log writes the record if the bucket allows, else counts it.
func (t *throttledLog) Log(level slog.Level, msg string, args ...any) {
	if !t.log.Enabled(context.Background(), level) {
		return
	}
	if !t.lim.Allow() {
		t.suppressed.Add(1)
		return
	}
	if n := t.suppressed.Swap(0); n > 0 {
		args = append(args, "suppressed", n)
	}
	t.log.Log(context.Background(), level, msg, args...)
}
