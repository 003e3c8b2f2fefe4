package relay

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/broadcast-service/broadcast/internal/session"
)

// Before the talker's offer reaches the relay (its id not known yet),
// another socket of the room leaving (a peer-to-peer watcher of the
// talker, which the server announces to the relay too) does not end the
// relay: it was taken for the talker (Run returned ErrTalkerLeft).
func TestStrangerLeavingBeforeOfferKeepsRelay(t *testing.T) {
	eng, err := NewEngine(Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	h := newHub(t)
	talker := h.join("talker", true) // on air, slow to answer the relay's talk_request
	h.join("stranger", false)        // a direct watcher of the talker
	room := NewRoom(eng, h.join("relay", false))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ran := make(chan error, 1)
	go func() { ran <- room.Run(ctx, session.Entered{Room: "room"}) }()
	// The relay's talk_request reached the talker: the relay is running.
	select {
	case <-talker.events:
	case <-time.After(5 * time.Second):
		t.Fatal("no talk_request from the relay")
	}
	h.leave("stranger")
	select {
	case err := <-ran:
		if errors.Is(err, ErrTalkerLeft) {
			t.Fatalf("a direct watcher leaving ended the relay: %v", err)
		}
		t.Fatalf("Run returned %v", err)
	case <-time.After(500 * time.Millisecond):
		// still running
	}
	cancel()
	<-ran
}
