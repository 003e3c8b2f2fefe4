package relay

import (
	"context"
	"testing"
	"time"

	"github.com/broadcast-service/broadcast/internal/session"
	"github.com/broadcast-service/broadcast/protocol"
)

// A watcher the relay holds while the talker's tracks are not in
// (Room.pending; the hub handed its request over, so the hub's own 10 s
// fallback no longer applies) gets talk_reject {reason: "full"} when the
// relay ends before serving it, here as the talker refuses the relay: it
// could not match the relay's `user disconnected`, never having heard its
// id.
func TestPendingWatcherRefusedAtEnd(t *testing.T) {
	eng, err := NewEngine(Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	h := newHub(t)
	talker := h.join("talker", true)
	watcher := h.join("w1", false)
	relaySig := h.join("relay", false)
	room := NewRoom(eng, relaySig)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ran := make(chan error, 1)
	go func() { ran <- room.Run(ctx, session.Entered{Room: "room"}) }()
	select {
	case <-talker.events: // the relay's talk_request
	case <-time.After(5 * time.Second):
		t.Fatal("no talk_request from the relay")
	}
	// The watcher's request, handed to the relay by the hub.
	if err := watcher.Send(protocol.TalkRequest{Head: protocol.Head{Type: protocol.TypeTalkRequest, Sendto: "relay"}}); err != nil {
		t.Fatal(err)
	}
	// The talker refuses the relay.
	if err := talker.Send(protocol.TalkReject{Head: protocol.Head{Type: protocol.TypeTalkReject, Sendto: "relay"}, Reason: protocol.RejectFull}); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-ran:
		t.Logf("relay ended: %v", err)
	case <-time.After(5 * time.Second):
		t.Fatal("relay did not end")
	}
	for {
		select {
		case ev := <-watcher.events:
			if m, ok := ev.(session.Message); ok && m.Type == protocol.TypeTalkReject {
				if m.Reason != protocol.RejectFull {
					t.Fatalf("reason %q, want %q", m.Reason, protocol.RejectFull)
				}
				return
			}
		default:
			t.Fatal("the watcher the relay held got no answer when the relay ended")
		}
	}
}
