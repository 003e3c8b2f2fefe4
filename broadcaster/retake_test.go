package broadcaster_test

import (
	"errors"
	"testing"

	"github.com/broadcast-service/broadcast/broadcaster"
	"github.com/broadcast-service/broadcast/internal/sigtest"
	"github.com/broadcast-service/broadcast/internal/talkertest"
	"github.com/broadcast-service/broadcast/internal/testmedia"
	"github.com/broadcast-service/broadcast/protocol"
	"github.com/broadcast-service/broadcast/signaling"
)

// A Go talker whose socket is lost on air takes its open room back with
// the retake token the server gave it, while the room is held for it.
func TestTalkerRetakesItsRoom(t *testing.T) {
	media := testmedia.Make(t, 2)
	url, hub := sigtest.Start(t, signaling.Options{}, signaling.ServerOptions{})
	w := sigtest.Enter(t, url, protocol.EnterRequest{Room: "held", Role: protocol.RoleWatcher})

	talkertest.OnAir(t, broadcaster.Options{Server: url, Room: "held", Video: media.VP8})
	first := w.Next(protocol.TypeTalkReady).From
	hub.Kick(first, errors.New("connection lost")) // as a dropped network would
	if again := w.Next(protocol.TypeTalkReady).From; again == first {
		t.Fatalf("talk_ready again from %s, want a new socket", again)
	}
}
