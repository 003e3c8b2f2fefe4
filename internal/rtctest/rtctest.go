// Package rtctest makes pion PeerConnections for tests that play one side
// of a handshake by hand.
package rtctest

import (
	"testing"

	"github.com/pion/webrtc/v4"

	"github.com/broadcast-service/broadcast/internal/rtc"
)

// Peer returns a PeerConnection on rtc.NewAPI, closed when the test ends.
func Peer(t testing.TB) *webrtc.PeerConnection {
	t.Helper()
	api, err := rtc.NewAPI()
	if err != nil {
		t.Fatal(err)
	}
	pc, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pc.Close() })
	return pc
}

// Talker returns a Peer with one sendonly video transceiver, and its offer,
// already its local description.
func Talker(t testing.TB) (*webrtc.PeerConnection, webrtc.SessionDescription) {
	t.Helper()
	pc := Peer(t)
	if _, err := pc.AddTransceiverFromKind(webrtc.RTPCodecTypeVideo, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly}); err != nil {
		t.Fatal(err)
	}
	offer, err := pc.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := pc.SetLocalDescription(offer); err != nil {
		t.Fatal(err)
	}
	return pc, offer
}
