package relay

import (
	"strings"
	"testing"

	"github.com/pion/webrtc/v4"
)

// The relay negotiates with a talker only the codecs it forwards: Opus,
// VP8, VP9 and H.264 with their RTX, not pion's other defaults.
func TestTalkerCodecs(t *testing.T) {
	eng, err := NewEngine(Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	pc, err := eng.toTalker.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	for _, k := range []webrtc.RTPCodecType{webrtc.RTPCodecTypeAudio, webrtc.RTPCodecTypeVideo} {
		if _, err := pc.AddTransceiverFromKind(k, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly}); err != nil {
			t.Fatal(err)
		}
	}
	offer, err := pc.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"opus/48000/2", "VP8/90000", "VP9/90000", "H264/90000", "rtx/90000"} {
		if !strings.Contains(offer.SDP, want) {
			t.Errorf("no %s", want)
		}
	}
	for _, not := range []string{"G722", "PCMU", "PCMA", "AV1", "H265"} {
		if strings.Contains(offer.SDP, not) {
			t.Errorf("offers %s, which the relay does not forward", not)
		}
	}
}
