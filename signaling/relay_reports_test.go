package signaling

import (
	"sync/atomic"
	"testing"

	"github.com/broadcast-service/broadcast/protocol"
)

// reportCount is an Observer counting viewer reports.
type reportCount struct {
	noObserver
	n atomic.Int64
}

func (o *reportCount) ViewerReport(protocol.Report) { o.n.Add(1) }

// The relay's stats reach the talker as sent (the watcher whose report it
// passes on, or who left) with the server's stamp; a relay watcher's
// report is counted once, by the watcher's message, and the relay's
// stats not again.
func TestRelayPassesReportsOn(t *testing.T) {
	obs := &reportCount{}
	h := NewHub(Options{RelaySecret: testRelaySecret, Observer: obs})
	talker := connect(t, h, "t", "r", protocol.RoleTalker)
	w := connect(t, h, "w", "r", protocol.RoleWatcher)
	relay := relayPeer(t, h, "relay", "r")
	send(t, w, `{"type":"stats","sendto":"relay","bitrate":1000,"fps":30}`)
	if m := decode(t, relay.next(t)); m["from"] != "w" || m["bitrate"] != 1000.0 {
		t.Fatalf("relay got %v", m)
	}
	send(t, relay, `{"type":"stats","sendto":"t","watcher":"w","bitrate":1000,"fps":30}`)
	if m := decode(t, talker.next(t)); m["from"] != "relay" || m["relay"] != true || m["watcher"] != "w" || m["bitrate"] != 1000.0 || m["fps"] != 30.0 {
		t.Fatalf("talker got %v", m)
	}
	send(t, relay, `{"type":"stats","sendto":"t","watcher":"w","left":true}`)
	if m := decode(t, talker.next(t)); m["relay"] != true || m["watcher"] != "w" || m["left"] != true {
		t.Fatalf("talker got %v", m)
	}
	send(t, relay, `{"type":"stats","sendto":"t","relayWatchers":1}`)
	if m := decode(t, talker.next(t)); m["relay"] != true || m["relayWatchers"] != 1.0 {
		t.Fatalf("talker got %v", m)
	}
	if n := obs.n.Load(); n != 1 {
		t.Fatalf("%d viewer reports counted, want 1", n)
	}
}
