package signaling_test

import (
	"testing"
	"time"

	"github.com/broadcast-service/broadcast/internal/sigtest"
	"github.com/broadcast-service/broadcast/protocol"
	"github.com/broadcast-service/broadcast/signaling"
)

// relaySecret is the relay secret of the tests' hubs.
const relaySecret = "relay-secret-for-tests"

// starter is a RelayStarter that records the rooms it was asked for.
type starter chan string

func newStarter() starter { return make(starter, 16) }

func (s starter) StartRelay(room string) error {
	select {
	case s <- room:
	default: // the test asked for no more
	}
	return nil
}

// asked waits for the hub to ask for room's relay.
func (s starter) asked(t *testing.T, room string) {
	t.Helper()
	select {
	case got := <-s:
		if got != room {
			t.Fatalf("relay started for %q, want %q", got, room)
		}
	case <-time.After(waitFor):
		t.Fatalf("no relay started for %q within %v", room, waitFor)
	}
}

// notAsked asserts the hub has asked for no relay so far.
func (s starter) notAsked(t *testing.T) {
	t.Helper()
	select {
	case got := <-s:
		t.Fatalf("relay started for %q", got)
	default:
	}
}

// relayRoom is a room played by hand: its talker, on air, and the hub's
// relay starter.
type relayRoom struct {
	url    string
	hub    *signaling.Hub
	start  starter
	talker *sigtest.Socket
}

func newRelayRoom(t *testing.T, opts signaling.Options) relayRoom {
	t.Helper()
	rr := relayRoom{start: newStarter()}
	opts.Relay, opts.RelaySecret = rr.start, relaySecret
	rr.url, rr.hub = sigtest.Start(t, opts, signaling.ServerOptions{})
	rr.talker = sigtest.Enter(t, rr.url, protocol.EnterRequest{Room: "r", Role: protocol.RoleTalker})
	rr.talker.Send(protocol.TalkReady{Head: protocol.Head{Type: protocol.TypeTalkReady}})
	return rr
}

// watcher enters a watcher, which asks the talker for the stream; the
// talker hears it and the watcher's id is returned.
func (rr relayRoom) watcher(t *testing.T) (*sigtest.Socket, string) {
	t.Helper()
	w := sigtest.Enter(t, rr.url, protocol.EnterRequest{Room: "r", Role: protocol.RoleWatcher})
	w.Send(protocol.TalkRequest{Head: protocol.Head{Type: protocol.TypeTalkRequest}})
	m := rr.talker.Next(protocol.TypeTalkRequest)
	if m.Relay || m.From == "" {
		t.Fatalf("the talker heard %+v", m)
	}
	return w, m.From
}

// relay enters the room's relay and returns it and its id, as the talker
// hears it in the relay's talk_request.
func (rr relayRoom) relay(t *testing.T) (*sigtest.Socket, string) {
	t.Helper()
	r := sigtest.Enter(t, rr.url, protocol.EnterRequest{Room: "r", Role: protocol.RoleRelay, Key: relaySecret})
	r.Send(protocol.TalkRequest{Head: protocol.Head{Type: protocol.TypeTalkRequest}})
	m := rr.talker.Next(protocol.TypeTalkRequest)
	if !m.Relay || m.From == "" {
		t.Fatalf("the talker heard the relay's request as %+v, want it stamped relay", m)
	}
	return r, m.From
}

func (rr relayRoom) rejectFull(watcher string) {
	rr.talker.Send(protocol.TalkReject{Head: protocol.Head{Type: protocol.TypeTalkReject, Sendto: watcher}, Reason: protocol.RejectFull})
}

// serves plays the relay's side of a handshake with watcher w (id wid):
// its offer, candidate and layer message reach w stamped relay, w's
// answer, candidate, stats, layer message and bye reach the relay.
func serves(t *testing.T, relay *sigtest.Socket, relayID string, w *sigtest.Socket, wid string) {
	t.Helper()
	relay.Send(protocol.Offer{Head: protocol.Head{Type: protocol.TypeOffer, Sendto: wid}, SDP: "v=0 relay"})
	m := w.Next(protocol.TypeOffer, protocol.TypeTalkReject)
	if m.Type != protocol.TypeOffer || m.From != relayID || !m.Relay || m.SDP != "v=0 relay" {
		t.Fatalf("watcher got %+v, want the relay's offer, stamped", m)
	}
	relay.Send(protocol.Candidate{Head: protocol.Head{Type: protocol.TypeCandidate, Sendto: wid}, Candidate: "c-relay"})
	if m := w.Next(protocol.TypeCandidate); m.From != relayID || !m.Relay || m.Candidate != "c-relay" {
		t.Fatalf("watcher got %+v, want the relay's candidate", m)
	}
	relay.Send(protocol.Layer{Head: protocol.Head{Type: protocol.TypeLayer, Sendto: wid}, Layers: []string{"low", "high"}, Current: "high", Pin: "auto"})
	if m := w.Next(protocol.TypeLayer); m.From != relayID || !m.Relay || m.Current != "high" || len(m.Layers) != 2 {
		t.Fatalf("watcher got %+v, want the relay's layer message", m)
	}
	w.Send(protocol.Answer{Head: protocol.Head{Type: protocol.TypeAnswer, Sendto: relayID}, SDP: "v=0 answer"})
	if m := relay.Next(protocol.TypeAnswer); m.From != wid || m.Relay || m.SDP != "v=0 answer" {
		t.Fatalf("relay got %+v, want the watcher's answer", m)
	}
	for _, typ := range []string{protocol.TypeCandidate, protocol.TypeStats, protocol.TypeLayer, protocol.TypeBye} {
		w.Send(map[string]any{"type": typ, "sendto": relayID, "candidate": "c-w"})
		if m := relay.Next(typ); m.From != wid || m.Relay {
			t.Fatalf("relay got %+v, want the watcher's %s", m, typ)
		}
	}
}

// In auto mode, the talker's talk_reject {full} never reaches the watcher:
// the relay is started, and once it enters it hears the watcher's request
// and serves it.
func TestRelayAutoTakesWatcherTheTalkerRefused(t *testing.T) {
	rr := newRelayRoom(t, signaling.Options{})
	w, wid := rr.watcher(t)
	rr.rejectFull(wid)
	rr.start.asked(t, "r")
	relay, relayID := rr.relay(t)
	if m := relay.Next(protocol.TypeTalkRequest); m.From != wid || m.Relay {
		t.Fatalf("relay got %+v, want the watcher's talk_request", m)
	}
	serves(t, relay, relayID, w, wid)

	// With the relay in the room, the next refused watcher goes to it at
	// once, and no relay is started again.
	w2, wid2 := rr.watcher(t)
	rr.rejectFull(wid2)
	if m := relay.Next(protocol.TypeTalkRequest); m.From != wid2 {
		t.Fatalf("relay got %+v, want the second watcher's talk_request", m)
	}
	serves(t, relay, relayID, w2, wid2)
	rr.start.notAsked(t)

	// A talk_reject for a timeout is the talker's business: delivered.
	rr.talker.Send(protocol.TalkReject{Head: protocol.Head{Type: protocol.TypeTalkReject, Sendto: wid2}, Reason: protocol.RejectTimeout})
	if m := w2.Next(protocol.TypeTalkReject); m.Reason != protocol.RejectTimeout || m.Relay {
		t.Fatalf("watcher got %+v", m)
	}
}

// A relay that does not come within the hold: the watcher gets the
// talker's reject after all.
func TestRelayHoldTimesOutToTheReject(t *testing.T) {
	rr := newRelayRoom(t, signaling.Options{RelayHold: 50 * time.Millisecond})
	w, wid := rr.watcher(t)
	rr.rejectFull(wid)
	rr.start.asked(t, "r")
	m := w.Next(protocol.TypeTalkReject)
	if m.Reason != protocol.RejectFull || m.Relay || m.From == "" {
		t.Fatalf("watcher got %+v, want the talker's reject", m)
	}
	// A relay entering late is not handed the request given up on.
	relay, _ := rr.relay(t)
	w2, wid2 := rr.watcher(t)
	rr.rejectFull(wid2)
	if m := relay.Next(protocol.TypeTalkRequest); m.From != wid2 {
		t.Fatalf("relay got %+v, want only the second watcher's talk_request", m)
	}
	_ = w2
}

// With the relay off (no RelayStarter), the talker's reject is delivered.
func TestRelayOffDeliversTheReject(t *testing.T) {
	url, _ := sigtest.Start(t, signaling.Options{RelaySecret: relaySecret}, signaling.ServerOptions{})
	talker := sigtest.Enter(t, url, protocol.EnterRequest{Room: "r", Role: protocol.RoleTalker})
	w := sigtest.Enter(t, url, protocol.EnterRequest{Room: "r", Role: protocol.RoleWatcher})
	w.Send(protocol.TalkRequest{Head: protocol.Head{Type: protocol.TypeTalkRequest}})
	wid := talker.Next(protocol.TypeTalkRequest).From
	talker.Send(protocol.TalkReject{Head: protocol.Head{Type: protocol.TypeTalkReject, Sendto: wid}, Reason: protocol.RejectFull})
	if m := w.Next(protocol.TypeTalkReject); m.Reason != protocol.RejectFull {
		t.Fatalf("watcher got %+v", m)
	}
}

// In always mode the relay starts with the talker on air, and watchers'
// requests go to it, never to the talker.
func TestRelayAlwaysTakesEveryRequest(t *testing.T) {
	rr := newRelayRoom(t, signaling.Options{RelayMode: signaling.RelayAlways})
	rr.start.asked(t, "r")

	// A request before the relay enters is held for it.
	early := sigtest.Enter(t, rr.url, protocol.EnterRequest{Room: "r", Role: protocol.RoleWatcher})
	early.Send(protocol.TalkRequest{Head: protocol.Head{Type: protocol.TypeTalkRequest}})
	relay := sigtest.Enter(t, rr.url, protocol.EnterRequest{Room: "r", Role: protocol.RoleRelay, Key: relaySecret})
	earlyID := relay.Next(protocol.TypeTalkRequest).From

	// A request to the room, and one to the talker by its id, both reach
	// the relay.
	w := sigtest.Enter(t, rr.url, protocol.EnterRequest{Room: "r", Role: protocol.RoleWatcher})
	w.Send(protocol.TalkRequest{Head: protocol.Head{Type: protocol.TypeTalkRequest}})
	wid := relay.Next(protocol.TypeTalkRequest).From
	relay.Send(protocol.TalkRequest{Head: protocol.Head{Type: protocol.TypeTalkRequest}})
	m := rr.talker.Next(protocol.TypeTalkRequest)
	if !m.Relay {
		t.Fatalf("the talker heard %+v first, want only the relay's request", m)
	}
	relayID := m.From
	rr.talker.Send(protocol.TalkReady{Head: protocol.Head{Type: protocol.TypeTalkReady}})
	talkerID := w.Next(protocol.TypeTalkReady).From
	w.Send(protocol.TalkRequest{Head: protocol.Head{Type: protocol.TypeTalkRequest, Sendto: talkerID}})
	if m := relay.Next(protocol.TypeTalkRequest); m.From != wid {
		t.Fatalf("relay got %+v", m)
	}
	serves(t, relay, relayID, w, wid)
	serves(t, relay, relayID, early, earlyID)
	// The talker heard none of the watchers: the next it hears is the
	// relay's.
	relay.Send(protocol.Bye{Head: protocol.Head{Type: protocol.TypeBye}})
	if m := rr.talker.Next(protocol.TypeTalkRequest, protocol.TypeBye); m.Type != protocol.TypeBye || m.From != relayID {
		t.Fatalf("the talker heard %+v, want the relay's bye", m)
	}
}

// In always mode a request held for a relay that never comes goes to the
// talker.
func TestRelayAlwaysHoldTimesOutToTheTalker(t *testing.T) {
	rr := newRelayRoom(t, signaling.Options{RelayMode: signaling.RelayAlways, RelayHold: 50 * time.Millisecond})
	rr.start.asked(t, "r")
	w := sigtest.Enter(t, rr.url, protocol.EnterRequest{Room: "r", Role: protocol.RoleWatcher})
	w.Send(protocol.TalkRequest{Head: protocol.Head{Type: protocol.TypeTalkRequest}})
	if m := rr.talker.Next(protocol.TypeTalkRequest); m.From == "" || m.Relay {
		t.Fatalf("the talker heard %+v", m)
	}
}

// The relay leaving is told to every member; a watcher leaving is told to
// the relay as to the talker.
func TestRelayDepartures(t *testing.T) {
	rr := newRelayRoom(t, signaling.Options{})
	w, wid := rr.watcher(t)
	w2, wid2 := rr.watcher(t)
	relay, relayID := rr.relay(t)
	rr.rejectFull(wid)
	relay.Next(protocol.TypeTalkRequest)
	serves(t, relay, relayID, w, wid)

	w2.Close()
	if id := relay.Disconnected(); id != wid2 {
		t.Fatalf("relay heard %q leave, want %q", id, wid2)
	}
	if id := rr.talker.Disconnected(); id != wid2 {
		t.Fatalf("talker heard %q leave, want %q", id, wid2)
	}
	relay.Close()
	if id := w.Disconnected(); id != relayID {
		t.Fatalf("watcher heard %q leave, want the relay %q", id, relayID)
	}
	if id := rr.talker.Disconnected(); id != relayID {
		t.Fatalf("talker heard %q leave, want the relay %q", id, relayID)
	}
}

// Entering as the relay takes the relay secret, and a room has one relay.
func TestRelayAdmission(t *testing.T) {
	rr := newRelayRoom(t, signaling.Options{})
	for _, key := range []string{"", "wrong", relaySecret + "x"} {
		if code := sigtest.EnterRefused(t, rr.url, protocol.EnterRequest{Room: "r", Role: protocol.RoleRelay, Key: key}); code != protocol.CodeBadKey {
			t.Errorf("relay with key %q: %s, want bad_key", key, code)
		}
	}
	relay := sigtest.Enter(t, rr.url, protocol.EnterRequest{Room: "r", Role: protocol.RoleRelay, Key: relaySecret})
	if code := sigtest.EnterRefused(t, rr.url, protocol.EnterRequest{Room: "r", Role: protocol.RoleRelay, Key: relaySecret}); code != protocol.CodeRoomTaken {
		t.Errorf("second relay: %s, want room_taken", code)
	}
	// Another room may have its own.
	sigtest.Enter(t, rr.url, protocol.EnterRequest{Room: "other", Role: protocol.RoleRelay, Key: relaySecret})
	// Once the relay left, the room takes a new one.
	relay.Close()
	rr.talker.Disconnected()
	sigtest.Enter(t, rr.url, protocol.EnterRequest{Room: "r", Role: protocol.RoleRelay, Key: relaySecret})

	// A hub without a relay secret admits no relay.
	url, _ := sigtest.Start(t, signaling.Options{}, signaling.ServerOptions{})
	if code := sigtest.EnterRefused(t, url, protocol.EnterRequest{Room: "r", Role: protocol.RoleRelay}); code != protocol.CodeBadKey {
		t.Errorf("relay in a hub without a secret: %s, want bad_key", code)
	}
}

// A watcher cannot pass for the relay: its `relay` is removed, whatever
// its spelling, and its offer is still refused.
func TestRelayStampCannotBeForged(t *testing.T) {
	rr := newRelayRoom(t, signaling.Options{})
	w, wid := rr.watcher(t)
	for _, forged := range []map[string]any{
		{"type": "talk_request", "relay": true},
		{"type": "talk_request", "Relay": true, "from": "x"},
		{"type": "talk_request", "RELAY": true, "relay": true},
	} {
		w.Send(forged)
		if m := rr.talker.Next(protocol.TypeTalkRequest); m.Relay || m.From != wid {
			t.Fatalf("%v reached the talker as %+v", forged, m)
		}
	}
	w.Send(map[string]any{"type": "offer", "sendto": wid, "relay": true})
	if code := w.Refused(); code != protocol.CodeNotTalker {
		t.Fatalf("watcher's offer: %s, want not_talker", code)
	}
	// Nor can the talker.
	rr.talker.Send(map[string]any{"type": "offer", "sendto": wid, "sdp": "v=0", "relay": true})
	if m := w.Next(protocol.TypeOffer); m.Relay {
		t.Fatalf("the talker's offer reached the watcher as %+v", m)
	}
}

// What the relay may not send: a talker's message to the room or to the
// talker, end_talk, a watcher's message to nobody in the room. Its answer
// to a watcher (one that made its own offer: a WHEP player) reaches it.
func TestRelayRoutingRefusals(t *testing.T) {
	rr := newRelayRoom(t, signaling.Options{})
	w, wid := rr.watcher(t)
	relay, _ := rr.relay(t)
	rr.talker.Send(protocol.TalkReady{Head: protocol.Head{Type: protocol.TypeTalkReady}})
	talkerID := w.Next(protocol.TypeTalkReady).From
	for _, tt := range []struct {
		msg  map[string]any
		code string
	}{
		{map[string]any{"type": "offer", "sdp": "v=0"}, protocol.CodeNotTalker},
		{map[string]any{"type": "talk_ready"}, protocol.CodeNotTalker},
		{map[string]any{"type": "talk_reject", "reason": "full"}, protocol.CodeNotTalker},
		{map[string]any{"type": "offer", "sdp": "v=0", "sendto": talkerID}, protocol.CodeNotTalker},
		{map[string]any{"type": "end_talk"}, protocol.CodeNotTalker},
		{map[string]any{"type": "end_talk", "sendto": wid}, protocol.CodeNotTalker},
		{map[string]any{"type": "offer", "sdp": "v=0", "sendto": "nobody"}, protocol.CodeUnknownRecipient},
		{map[string]any{"type": "answer", "sdp": "v=0", "sendto": "nobody"}, protocol.CodeUnknownRecipient},
	} {
		relay.Send(tt.msg)
		if code := relay.Refused(); code != tt.code {
			t.Errorf("relay sent %v: %s, want %s", tt.msg, code, tt.code)
		}
	}
	// None of it reached the watcher: the first it hears of the relay is
	// the offer sent to it. (The talker's talk_ready sent as the room was
	// set up may reach it late.)
	relay.Send(protocol.Answer{Head: protocol.Head{Type: protocol.TypeAnswer, Sendto: wid}, SDP: "v=0 answer"})
	if m := w.Next(protocol.TypeAnswer); m.SDP != "v=0 answer" || !m.Relay {
		t.Fatalf("watcher got %+v", m)
	}
	relay.Send(protocol.Offer{Head: protocol.Head{Type: protocol.TypeOffer, Sendto: wid}, SDP: "v=0 mine"})
	for {
		m := w.Next(protocol.TypeOffer, protocol.TypeTalkReady, protocol.TypeTalkReject, protocol.TypeEndTalk)
		if m.Type == protocol.TypeTalkReady && m.From == talkerID {
			continue
		}
		if m.SDP != "v=0 mine" {
			t.Fatalf("watcher got %+v", m)
		}
		break
	}
}
