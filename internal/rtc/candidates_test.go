package rtc_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/broadcast-service/broadcast/internal/rtc"
	"github.com/broadcast-service/broadcast/internal/rtctest"
	"github.com/broadcast-service/broadcast/protocol"
)

func hostCandidate(ip string, port int) webrtc.ICECandidateInit {
	mid, index := "0", uint16(0)
	return webrtc.ICECandidateInit{Candidate: fmt.Sprintf("candidate:1 1 udp 2130706431 %s %d typ host", ip, port), SDPMid: &mid, SDPMLineIndex: &index}
}

// Candidates that come before the remote description are kept up to
// protocol.MaxPendingCandidates; a flood beyond it is dropped.
func TestEarlyCandidatesCapped(t *testing.T) {
	var e rtc.EarlyCandidates
	for i := range protocol.MaxPendingCandidates + 50 {
		kept := e.Add("talker", hostCandidate("127.0.0.1", 40000+i))
		if want := i < protocol.MaxPendingCandidates; kept != want {
			t.Fatalf("candidate %d kept %v, want %v", i, kept, want)
		}
	}
	if n := e.Held(); n != protocol.MaxPendingCandidates {
		t.Fatalf("%d candidates held, want %d", n, protocol.MaxPendingCandidates)
	}
	if e.Add("talker", webrtc.ICECandidateInit{}) {
		t.Error("an empty candidate (end of candidates) was kept")
	}
}

// A talker's candidate can overtake its offer: it must reach the
// PeerConnection once the offer is its remote description, while a
// stranger's does not; later ones go straight on, and Hold holds again.
func TestEarlyCandidatesSurviveTheOffer(t *testing.T) {
	_, offer := rtctest.Talker(t)
	pc := rtctest.Peer(t)
	var e rtc.EarlyCandidates
	e.Add("talker", hostCandidate("127.0.0.7", 40000))
	e.Add("stranger", hostCandidate("127.0.0.8", 40000))
	if err := pc.SetRemoteDescription(offer); err != nil {
		t.Fatal(err)
	}
	e.Ready(pc, "talker")
	if e.Held() != 0 || !e.IsReady() {
		t.Fatalf("after Ready: %d held, ready %v; want 0, true", e.Held(), e.IsReady())
	}
	if !e.Add("talker", hostCandidate("127.0.0.9", 40000)) {
		t.Error("a candidate after Ready was not added")
	}
	e.Add("stranger", hostCandidate("127.0.0.10", 40000))
	e.Hold()
	e.Add("talker", hostCandidate("127.0.0.11", 40000))
	if e.Held() != 2 {
		t.Errorf("%d held after Hold, want the stranger's and the held talker's", e.Held())
	}
	// pion's ICE agent takes an added candidate on its own goroutine:
	// its stats have it a moment later.
	remote := map[string]bool{}
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline) && !(remote["127.0.0.7"] && remote["127.0.0.9"]); {
		remote = map[string]bool{}
		for _, s := range pc.GetStats() {
			if c, ok := s.(webrtc.ICECandidateStats); ok && c.Type == webrtc.StatsTypeRemoteCandidate {
				remote[c.IP] = true
			}
		}
		if !(remote["127.0.0.7"] && remote["127.0.0.9"]) {
			time.Sleep(10 * time.Millisecond) // polled: the agent's goroutine
		}
	}
	if !remote["127.0.0.7"] || !remote["127.0.0.9"] || remote["127.0.0.8"] || remote["127.0.0.10"] || remote["127.0.0.11"] {
		t.Errorf("remote candidates %v: want the talker's early and later ones only", remote)
	}
}
