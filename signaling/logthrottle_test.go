package signaling

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"golang.org/x/time/rate"
)

// Past its burst the log counts what it leaves out, and says so on the next
// record it writes.
func TestThrottledLogCountsWhatItSuppresses(t *testing.T) {
	var buf bytes.Buffer
	tl := newThrottledLog(slog.New(slog.NewTextHandler(&buf, nil)))
	tl.lim.SetLimit(0) // no refill: exactly the burst gets through
	for range refusalLogBurst + 7 {
		tl.Log(slog.LevelInfo, "refused")
	}
	if got := strings.Count(buf.String(), "refused"); got != refusalLogBurst {
		t.Fatalf("%d records, want the burst of %d", got, refusalLogBurst)
	}
	tl.lim.SetLimit(rate.Inf)
	buf.Reset()
	tl.Log(slog.LevelInfo, "refused")
	if !strings.Contains(buf.String(), "suppressed=7") {
		t.Fatalf("next record %q does not count the 7 left out", buf.String())
	}
}
