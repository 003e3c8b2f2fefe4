package broadcaster_test

import (
	"testing"
	"time"

	"github.com/broadcast-service/broadcast/broadcaster"
	"github.com/broadcast-service/broadcast/internal/sigtest"
	"github.com/broadcast-service/broadcast/internal/talkertest"
	"github.com/broadcast-service/broadcast/internal/testmedia"
	"github.com/broadcast-service/broadcast/protocol"
	"github.com/broadcast-service/broadcast/signaling"
)

// A watcher that asks and never answers the offer is dropped after the
// offer timeout and told so; its place goes to the next watcher, which a
// full room would have refused.
func TestUnansweredOfferTimesOut(t *testing.T) {
	media := testmedia.Make(t, 2)
	url, _ := sigtest.Start(t, signaling.Options{}, signaling.ServerOptions{})
	idle := sigtest.Enter(t, url, protocol.EnterRequest{Room: "idle", Role: protocol.RoleWatcher})
	later := sigtest.Enter(t, url, protocol.EnterRequest{Room: "idle", Role: protocol.RoleWatcher})

	b, _ := talkertest.OnAir(t, broadcaster.Options{Server: url, Room: "idle", Video: media.VP8, MaxWatchers: 1, OfferTimeout: 300 * time.Millisecond})
	talker := idle.Next(protocol.TypeTalkReady).From
	later.Next(protocol.TypeTalkReady)

	idle.Send(map[string]any{"type": protocol.TypeTalkRequest, "sendto": talker})
	idle.Next(protocol.TypeOffer)
	if m := idle.Next(protocol.TypeTalkReject); m.Reason != "timeout" {
		t.Fatalf("idle watcher told talk_reject %q, want \"timeout\"", m.Reason)
	}
	if n := b.Watchers(); n != 0 {
		t.Fatalf("talker serves %d watchers after the timeout, want 0", n)
	}
	later.Send(map[string]any{"type": protocol.TypeTalkRequest, "sendto": talker})
	if m := later.Next(protocol.TypeOffer, protocol.TypeTalkReject); m.Type != protocol.TypeOffer {
		t.Fatalf("later watcher got %s %q, want an offer", m.Type, m.Reason)
	}
}
