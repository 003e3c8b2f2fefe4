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

// A talker's candidate can overtake its offer; it must survive the offer,
// while a stranger's does not.
func TestEarlyCandidatesSurviveTheOffer(t *testing.T) {
	url, _ := sigtest.Start(t, signaling.Options{}, signaling.ServerOptions{})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	sess, _, err := session.Open(ctx, session.Config{Server: url, Enter: protocol.EnterRequest{Room: "early", Role: protocol.RoleWatcher}})
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	api, err := rtc.NewAPI()
	if err != nil {
		t.Fatal(err)
	}
	_, offer := rtctest.Talker(t)

	v := New(Options{})
	v.sess = sess
	v.api = api
	mid, index := "0", uint16(0)
	early := func(from, ip string) protocol.Message {
		return protocol.Message{Type: "candidate", From: from, Candidate: "candidate:1 1 udp 2130706431 " + ip + " 40000 typ host", SDPMid: &mid, SDPMLineIndex: &index}
	}
	for _, m := range []protocol.Message{early("talker", "127.0.0.7"), early("stranger", "127.0.0.8")} {
		if _, err := v.message(m); err != nil {
			t.Fatal(err)
		}
	}
	if err := v.answer(protocol.Message{Type: "offer", From: "talker", SDP: offer.SDP}); err != nil {
		t.Fatal(err)
	}
	defer v.finish()
	remote := map[string]bool{}
	for _, s := range v.peerConnection().GetStats() {
		if c, ok := s.(webrtc.ICECandidateStats); ok && c.Type == webrtc.StatsTypeRemoteCandidate {
			remote[c.IP] = true
		}
	}
	if !remote["127.0.0.7"] || remote["127.0.0.8"] {
		t.Errorf("remote candidates %v: want the talker's early one and not the stranger's", remote)
	}
}
