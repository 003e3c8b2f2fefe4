package signaling_test

import (
	"errors"
	"testing"
	"time"

	"github.com/broadcast-service/broadcast/internal/sigtest"
	"github.com/broadcast-service/broadcast/protocol"
	"github.com/broadcast-service/broadcast/signaling"
)

// errNoRelay is a RelayStarter's refusal, as the relay manager's past its
// cap of rooms.
var errNoRelay = errors.New("too many rooms relayed")

// refusingStarter is a RelayStarter that starts no relay: it records the
// rooms asked for and returns errNoRelay.
type refusingStarter chan string

func (s refusingStarter) StartRelay(room string) error {
	select {
	case s <- room:
	default:
	}
	return errNoRelay
}

// asked waits for the hub to ask for room's relay.
func (s refusingStarter) asked(t *testing.T, room string) {
	t.Helper()
	starter(s).asked(t, room)
}

// foreverHold is a relay hold no test waits out: only a request delivered
// at once, not on the hold's expiry, is seen within waitFor.
const foreverHold = time.Hour

// A relay that will not start (the relay manager past its cap of rooms)
// holds nothing: the watcher the talker refused as full hears the talker's
// talk_reject {full} at once, not after the hold, and so does the next,
// for which the hub asks again.
func TestRelayRefusedDeliversTheRejectAtOnce(t *testing.T) {
	start := make(refusingStarter, 4)
	url, _ := sigtest.Start(t, signaling.Options{Relay: start, RelaySecret: relaySecret, RelayHold: foreverHold}, signaling.ServerOptions{})
	talker := sigtest.Enter(t, url, protocol.EnterRequest{Room: "r", Role: protocol.RoleTalker})
	talker.Send(protocol.TalkReady{Head: protocol.Head{Type: protocol.TypeTalkReady}})
	for range 2 {
		w := sigtest.Enter(t, url, protocol.EnterRequest{Room: "r", Role: protocol.RoleWatcher})
		w.Send(protocol.TalkRequest{Head: protocol.Head{Type: protocol.TypeTalkRequest}})
		wid := talker.Next(protocol.TypeTalkRequest).From
		talker.Send(protocol.TalkReject{Head: protocol.Head{Type: protocol.TypeTalkReject, Sendto: wid}, Reason: protocol.RejectFull})
		start.asked(t, "r")
		if m := w.Next(protocol.TypeTalkReject); m.Reason != protocol.RejectFull || m.Relay {
			t.Fatalf("watcher got %+v, want the talker's reject", m)
		}
	}
}

// In always mode, a relay that will not start leaves the room to its
// talker: a watcher's talk_request reaches the talker at once.
func TestRelayAlwaysRefusedGoesToTheTalkerAtOnce(t *testing.T) {
	start := make(refusingStarter, 4)
	url, _ := sigtest.Start(t, signaling.Options{Relay: start, RelaySecret: relaySecret, RelayMode: signaling.RelayAlways, RelayHold: foreverHold}, signaling.ServerOptions{})
	talker := sigtest.Enter(t, url, protocol.EnterRequest{Room: "r", Role: protocol.RoleTalker})
	talker.Send(protocol.TalkReady{Head: protocol.Head{Type: protocol.TypeTalkReady}})
	start.asked(t, "r") // on air
	w := sigtest.Enter(t, url, protocol.EnterRequest{Room: "r", Role: protocol.RoleWatcher})
	w.Send(protocol.TalkRequest{Head: protocol.Head{Type: protocol.TypeTalkRequest}})
	if m := talker.Next(protocol.TypeTalkRequest); m.From == "" || m.Relay {
		t.Fatalf("the talker heard %+v, want the watcher's request", m)
	}
	start.asked(t, "r") // asked again for the held request
}
