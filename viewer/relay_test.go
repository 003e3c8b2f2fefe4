package viewer

import (
	"context"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/broadcast-service/broadcast/internal/rtc"
	"github.com/broadcast-service/broadcast/internal/rtctest"
	"github.com/broadcast-service/broadcast/internal/session"
	"github.com/broadcast-service/broadcast/internal/sigtest"
	"github.com/broadcast-service/broadcast/protocol"
	"github.com/broadcast-service/broadcast/signaling"
)

// relayed is a Viewer in a room whose relay is played by hand, and the
// relay's socket id.
type relayed struct {
	v     *Viewer
	relay *sigtest.Socket
	id    string
}

// withRelay puts a Viewer in a room with a socket that plays the room's
// relay. The server the test runs admits no relay of its own, so the
// socket enters as the room's talker (the one a watcher may send to) and
// the test stamps relay: true on what it hands the viewer, as the server
// does for its relay. The viewer's signaling loop is the test's.
func withRelay(t *testing.T, room string) relayed {
	t.Helper()
	url, _ := sigtest.Start(t, signaling.Options{}, signaling.ServerOptions{})
	relay := sigtest.Enter(t, url, protocol.EnterRequest{Room: room, Role: protocol.RoleTalker})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	sess, _, err := session.Open(ctx, session.Config{Server: url, Enter: protocol.EnterRequest{Room: room, Role: protocol.RoleWatcher}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sess.Close() })
	relay.Send(map[string]any{"type": protocol.TypeTalkReady})
	id := ""
	for id == "" {
		select {
		case ev := <-sess.Events():
			if m, ok := ev.(session.Message); ok && m.Type == protocol.TypeTalkReady {
				id = m.From
			}
		case <-ctx.Done():
			t.Fatal("no talk_ready from the relay's socket within 20 s")
		}
	}
	api, err := rtc.NewAPI()
	if err != nil {
		t.Fatal(err)
	}
	v := New(Options{})
	v.sess, v.api = sess, api
	t.Cleanup(v.finish)
	return relayed{v: v, relay: relay, id: id}
}

// An offer stamped relay: true is taken as the talker's: the answer goes to
// the relay, `broadcast watch` says the media came via the relay, the
// talker's end_talk ends the session although the talker is not its peer,
// and so does bye go to the relay at the end.
func TestRelayOfferIsTaken(t *testing.T) {
	r := withRelay(t, "relayed")
	_, offer := rtctest.Talker(t)
	if _, err := r.v.message(protocol.Message{Type: protocol.TypeOffer, From: r.id, Relay: true, SDP: offer.SDP}); err != nil {
		t.Fatal(err)
	}
	if m := r.relay.Next(protocol.TypeAnswer); m.SDP == "" {
		t.Fatal("the relay got an answer without its SDP")
	}
	if via := r.v.stats("").Via; via != ViaRelay {
		t.Errorf("stats say via %q, want %q", via, ViaRelay)
	}
	if ended, err := r.v.message(protocol.Message{Type: protocol.TypeEndTalk, From: "the-talker"}); ended != "talker_left" || err != nil {
		t.Errorf("end_talk from the talker while watching via the relay: ended %q, %v; want talker_left", ended, err)
	}
	r.v.finish()
	r.relay.Next(protocol.TypeBye)
}

// The relay leaving ends the session: its media went with it.
func TestRelayLeavingEndsTheSession(t *testing.T) {
	r := withRelay(t, "relay-leaves")
	_, offer := rtctest.Talker(t)
	if _, err := r.v.message(protocol.Message{Type: protocol.TypeOffer, From: r.id, Relay: true, SDP: offer.SDP}); err != nil {
		t.Fatal(err)
	}
	if ended, err := r.v.event(session.Left{ID: r.id}); ended != "relay_left" || err != nil {
		t.Errorf("the relay left: ended %q, %v; want relay_left", ended, err)
	}
}

// With the media up through the relay, the talker's talk_ready (its socket
// back under a new id, say) is the relay's business: the viewer does not
// ask to resume a session the talker never had.
func TestTalkReadyLeavesARelayedSession(t *testing.T) {
	r := withRelay(t, "relay-live")
	pc := rtctest.Peer(t)
	if _, err := pc.AddTransceiverFromKind(webrtc.RTPCodecTypeVideo, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly}); err != nil {
		t.Fatal(err)
	}
	offer, err := pc.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(offer); err != nil {
		t.Fatal(err)
	}
	<-gathered // the offer carries the relay's candidates: no trickling by hand
	if _, err := r.v.message(protocol.Message{Type: protocol.TypeOffer, From: r.id, Relay: true, SDP: pc.LocalDescription().SDP}); err != nil {
		t.Fatal(err)
	}
	answer := r.relay.Next(protocol.TypeAnswer)
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: answer.SDP}); err != nil {
		t.Fatal(err)
	}
	timeout := time.After(20 * time.Second)
	for !r.v.mediaUp() {
		select {
		case <-r.v.mediaChanged:
		case <-timeout:
			t.Fatalf("media not up within 20 s: %s", r.v.peerConnection().ConnectionState())
		}
	}
	r.v.moveTo(phaseLive)
	if _, err := r.v.message(protocol.Message{Type: protocol.TypeTalkReady, From: "the-talker-again"}); err != nil {
		t.Fatal(err)
	}
	if r.v.phase != phaseLive {
		t.Errorf("phase %s after the talker's talk_ready, want live", r.v.phase)
	}
}
