package relay

import (
	"testing"
	"time"

	"github.com/broadcast-service/broadcast/internal/rtc"
	"github.com/broadcast-service/broadcast/internal/session"
	"github.com/broadcast-service/broadcast/protocol"
)

// TestWatcherResumes: a relay watcher whose socket left with its media up
// and came back under a new id (a talk_request with the ice-ufrag of the
// relay's offer) keeps its PeerConnection: it gets talk_ready {resumed},
// its media goes on, the talker is told the old id left, and the new id
// is the one a bye drops.
func TestWatcherResumes(t *testing.T) {
	r := newRig(t, Config{})
	reports := r.hub.relayReports("talker")
	w := r.watch("w1")
	within(t, w.enough, 20*time.Second, "media")
	ufrag := rtc.ICEUfrag(w.peerConnection().RemoteDescription().SDP)
	if ufrag == "" {
		t.Fatal("no ice-ufrag in the relay's offer")
	}
	r.hub.leave("w1")
	back := r.hub.join("w1b", false)
	if err := back.Send(protocol.TalkRequest{Head: protocol.Head{Type: protocol.TypeTalkRequest, Sendto: "relay"}, Resume: ufrag}); err != nil {
		t.Fatal(err)
	}
	ready := false
	for deadline := time.After(5 * time.Second); !ready; {
		select {
		case ev := <-back.events:
			m, ok := ev.(session.Message)
			if !ok {
				continue
			}
			switch m.Type {
			case protocol.TypeTalkReady:
				if !m.Resumed {
					t.Fatalf("talk_ready without resumed: %+v", m.Message)
				}
				ready = true
			case protocol.TypeOffer, protocol.TypeTalkReject:
				t.Fatalf("the resuming watcher got %s, want talk_ready {resumed}", m.Type)
			}
		case <-deadline:
			t.Fatal("no talk_ready within 5s")
		}
	}
	if got := nextReport(t, reports, 5*time.Second); got.st.Watcher != "w1" || !got.st.Left {
		t.Fatalf("after w1 resumed as w1b the talker got %v", got.raw)
	}
	w.mu.Lock()
	before := w.video
	w.mu.Unlock()
	eventually(t, 5*time.Second, "more video on the resumed connection", func() bool {
		w.mu.Lock()
		defer w.mu.Unlock()
		return w.video > before+30
	})
	if n := r.room.Watchers(); n != 1 {
		t.Fatalf("%d watchers after the resume, want 1", n)
	}
	if err := back.Send(protocol.Bye{Head: protocol.Head{Type: protocol.TypeBye, Sendto: "relay"}}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "dropped on w1b's bye", func() bool { return r.room.Watchers() == 0 })
}
