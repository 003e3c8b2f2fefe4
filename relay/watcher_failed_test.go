package relay

import (
	"testing"
	"time"

	"github.com/broadcast-service/broadcast/internal/session"
	"github.com/broadcast-service/broadcast/protocol"
)

// A watcher whose answer the relay cannot take is dropped and told so
// with talk_reject {reason: "dropped"}.
func TestBadAnswerRefused(t *testing.T) {
	r := newRig(t, Config{})
	m := r.hub.join("bad", false)
	if err := m.Send(protocol.TalkRequest{Head: protocol.Head{Type: protocol.TypeTalkRequest, Sendto: "relay"}}); err != nil {
		t.Fatal(err)
	}
	deadline := time.After(20 * time.Second)
	for {
		select {
		case ev := <-m.events:
			msg, ok := ev.(session.Message)
			if !ok {
				continue
			}
			switch msg.Type {
			case protocol.TypeOffer:
				if err := m.Send(protocol.Answer{Head: protocol.Head{Type: protocol.TypeAnswer, Sendto: "relay"}, SDP: "not an answer"}); err != nil {
					t.Fatal(err)
				}
			case protocol.TypeTalkReject:
				if msg.Reason != protocol.RejectDropped {
					t.Fatalf("reason %q, want %q", msg.Reason, protocol.RejectDropped)
				}
				if n := r.room.Watchers(); n != 0 {
					t.Errorf("%d watchers, want 0", n)
				}
				return
			}
		case <-deadline:
			t.Fatal("no talk_reject after a bad answer")
		}
	}
}
