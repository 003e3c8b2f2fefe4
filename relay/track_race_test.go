package relay

import (
	"sync"
	"testing"

	"github.com/pion/webrtc/v4"
)

// An Unbind (the watcher's PeerConnection closing: bye, failure, the relay
// dropping it) racing watcherTrack.attach leaves no Downstream on the
// talker's Upstream: when attach called Upstream.Add after releasing t.mu,
// an Unbind in between removed the Downstream before it was added, which
// then stayed on the Upstream for good, writing to a closed stream and
// keeping the watcher's PeerConnection reachable. A stress test: it failed
// in most runs on 2 cores.
func TestAttachUnbindRace(t *testing.T) {
	clk := newClock()
	u, _ := upstreamFor(t, webrtc.MimeTypeOpus, clk, 0)
	l := newLayers(nil)
	l.set("", u)
	from := &talkerTrack{kind: webrtc.RTPCodecTypeAudio, layers: l}
	leaked := 0
	for range 3000 {
		d, _ := downstreamFor(t, 0xa)
		wt := &watcherTrack{from: from, down: d}
		var wg sync.WaitGroup
		start := make(chan struct{})
		wg.Add(2)
		go func() { defer wg.Done(); <-start; wt.attach() }()
		go func() { defer wg.Done(); <-start; _ = wt.Unbind(nil) }()
		close(start)
		wg.Wait()
		if u.Watchers() != 0 {
			leaked++
			u.Remove(d)
		}
	}
	if leaked > 0 {
		t.Fatalf("%d of 3000 attach/Unbind races left an unbound Downstream on the Upstream", leaked)
	}
}
