package broadcaster

import (
	"fmt"
	"testing"

	"github.com/pion/webrtc/v4"

	"github.com/broadcast-service/broadcast/protocol"
)

// Candidates that come before the answer are kept up to
// protocol.MaxPendingCandidates; a flood beyond it is dropped.
func TestPendingCandidatesCapped(t *testing.T) {
	pc, err := webrtc.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	p := &peer{pc: pc}
	for i := range protocol.MaxPendingCandidates + 50 {
		p.candidate(webrtc.ICECandidateInit{Candidate: fmt.Sprintf("candidate:%d 1 udp 1 127.0.0.1 %d typ host", i, 40000+i)})
	}
	if n := len(p.pending); n != protocol.MaxPendingCandidates {
		t.Fatalf("%d candidates pending, want %d", n, protocol.MaxPendingCandidates)
	}
}
