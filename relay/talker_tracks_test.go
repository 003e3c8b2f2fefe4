package relay

import (
	"strings"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/broadcast-service/broadcast/internal/rtc"
	"github.com/broadcast-service/broadcast/internal/session"
	"github.com/broadcast-service/broadcast/protocol"
)

// A talker offering three video and two audio tracks is answered for the
// first two video (a camera and a screen) and the first audio: the relay's
// answer makes the others inactive, and its watchers wait for a track of
// each kind.
func TestTalkerOfferTwoVideosOneAudio(t *testing.T) {
	eng, err := NewEngine(Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	h := newHub(t)
	talker := h.join("talker", true)
	room := NewRoom(eng, h.join("relay", false))
	defer room.shutdown()

	api, err := rtc.NewAPI()
	if err != nil {
		t.Fatal(err)
	}
	pc, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	for i, mime := range []string{webrtc.MimeTypeVP8, webrtc.MimeTypeVP8, webrtc.MimeTypeOpus, webrtc.MimeTypeVP8, webrtc.MimeTypeOpus} {
		tr, err := webrtc.NewTrackLocalStaticSample(webrtc.RTPCodecCapability{MimeType: mime}, "t"+string(rune('0'+i)), "talker")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := pc.AddTrack(tr); err != nil {
			t.Fatal(err)
		}
	}
	offer, err := pc.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := pc.SetLocalDescription(offer); err != nil {
		t.Fatal(err)
	}
	if err := room.talkerOffer(protocol.Message{Type: protocol.TypeOffer, From: "talker", SDP: offer.SDP}); err != nil {
		t.Fatal(err)
	}
	var answer string
	deadline := time.After(5 * time.Second)
	for answer == "" {
		select {
		case ev := <-talker.events:
			if m, ok := ev.(session.Message); ok && m.Type == protocol.TypeAnswer {
				answer = m.SDP
			}
		case <-deadline:
			t.Fatal("no answer")
		}
	}
	if n := strings.Count(answer, "m="); n != 5 {
		t.Fatalf("answer of %d media sections, want 5", n)
	}
	if n := strings.Count(answer, "a=inactive"); n != 2 {
		t.Errorf("%d media sections inactive, want 2:\n%s", n, answer)
	}
	if n := strings.Count(answer, "a=recvonly"); n != 3 {
		t.Errorf("%d media sections received, want 3", n)
	}
	room.mu.Lock()
	expected := room.talker.expected
	room.mu.Unlock()
	if expected != 2 {
		t.Errorf("waits for %d kinds of track, want 2", expected)
	}
}
