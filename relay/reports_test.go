package relay

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/broadcast-service/broadcast/protocol"
)

// relayed is one stats message the relay sent the talker naming a watcher,
// as it wrote it.
type relayed struct {
	st  protocol.Stats
	raw map[string]any
}

// relayReports returns a channel of the stats messages naming a watcher
// that the relay sends the talker to.
func (h *hub) relayReports(to string) <-chan relayed {
	ch := make(chan relayed, 100)
	h.mu.Lock()
	defer h.mu.Unlock()
	h.tap = func(from string, raw []byte) {
		var st protocol.Stats
		var m map[string]any
		if from != "relay" || json.Unmarshal(raw, &st) != nil || json.Unmarshal(raw, &m) != nil ||
			st.Type != protocol.TypeStats || st.Sendto != to || st.Watcher == "" {
			return
		}
		select {
		case ch <- relayed{st, m}:
		default:
		}
	}
	return ch
}

// nextReport returns the next message on ch, failing the test after d.
func nextReport(t *testing.T, ch <-chan relayed, d time.Duration) relayed {
	t.Helper()
	select {
	case m := <-ch:
		return m
	case <-time.After(d):
		t.Fatalf("nothing from the relay to the talker within %v", d)
	}
	return relayed{}
}

// report sends the relay a quality report from m.
func report(t *testing.T, m *member, bitrate float64) {
	t.Helper()
	if err := m.Send(protocol.Stats{Head: protocol.Head{Type: protocol.TypeStats, Sendto: "relay"}, Report: protocol.Report{Bitrate: &bitrate}}); err != nil {
		t.Fatal(err)
	}
}

// TestWatcherReportReachesTalker: a relay watcher's report reaches the
// talker at once, naming that watcher, with the report's fields and
// nothing of the watcher's own head; a stranger's report is not passed
// on.
func TestWatcherReportReachesTalker(t *testing.T) {
	r := newRig(t, Config{})
	reports := r.hub.relayReports("talker")
	w := r.watch("w1")
	within(t, w.enough, 20*time.Second, "media")
	stranger := r.hub.join("stranger", false)
	report(t, stranger, 1)
	report(t, w.m, 123456)
	got := nextReport(t, reports, protocol.ReportInterval)
	if got.st.Watcher != "w1" || got.st.Bitrate == nil || *got.st.Bitrate != 123456 || got.st.Left {
		t.Fatalf("the talker got %v", got.raw)
	}
	want := map[string]any{"type": "stats", "sendto": "talker", "watcher": "w1", "bitrate": 123456.0}
	if len(got.raw) != len(want) {
		t.Fatalf("the talker got %v, want %v", got.raw, want)
	}
	for k, v := range want {
		if got.raw[k] != v {
			t.Fatalf("the talker got %v, want %v", got.raw, want)
		}
	}
}

// TestWatcherDepartureTold: a relay watcher leaving, by bye at once or by
// its socket once protocol.ResumeGrace passes without it coming back, is
// told to the talker as stats {watcher, left: true}.
func TestWatcherDepartureTold(t *testing.T) {
	r := newRig(t, Config{})
	reports := r.hub.relayReports("talker")
	w1, w2 := r.watch("w1"), r.watch("w2")
	within(t, w1.enough, 20*time.Second, "media")
	within(t, w2.enough, 20*time.Second, "media")
	if err := w1.m.Send(protocol.Bye{Head: protocol.Head{Type: protocol.TypeBye, Sendto: "relay"}}); err != nil {
		t.Fatal(err)
	}
	if got := nextReport(t, reports, 5*time.Second); got.st.Watcher != "w1" || !got.st.Left || got.st.Bitrate != nil {
		t.Fatalf("after w1's bye the talker got %v", got.raw)
	}
	r.hub.leave("w2")
	if got := nextReport(t, reports, protocol.ResumeGrace+5*time.Second); got.st.Watcher != "w2" || !got.st.Left {
		t.Fatalf("after w2 left the talker got %v", got.raw)
	}
}
