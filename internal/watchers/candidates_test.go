package watchers

import (
	"sync"
	"testing"

	"github.com/pion/webrtc/v4"

	"github.com/broadcast-service/broadcast/internal/rtctest"
	"github.com/broadcast-service/broadcast/protocol"
)

// The candidates a watcher's PeerConnection gathers before its offer has
// gone follow the offer: a watcher drops candidates of a session it has
// no offer for. Here the offer's send returns only once gathering is
// complete, every candidate gathered meanwhile.
func TestCandidatesFollowTheOffer(t *testing.T) {
	var (
		mu    sync.Mutex
		order []string // message types, as their sends returned
		pc    *webrtc.PeerConnection
	)
	gathered := make(chan struct{})
	table := New(Config[*fakePeer]{
		New: func(string, bool) (*fakePeer, error) {
			pc = rtctest.Peer(t)
			if _, err := pc.CreateDataChannel("data", nil); err != nil {
				return nil, err
			}
			done := webrtc.GatheringCompletePromise(pc)
			go func() { <-done; close(gathered) }()
			return &fakePeer{pc: pc, live: make(chan struct{}, 1)}, nil
		},
		Send: func(msg protocol.Typed) error {
			if msg.MessageType() == protocol.TypeOffer {
				<-gathered
			}
			mu.Lock()
			order = append(order, msg.MessageType())
			mu.Unlock()
			return nil
		},
	})
	t.Cleanup(table.DropAll)
	table.Request("w", "", false)

	mu.Lock()
	defer mu.Unlock()
	if len(order) < 2 || order[0] != protocol.TypeOffer {
		t.Fatalf("sent %v, want the offer, then its candidates", order)
	}
	for _, typ := range order[1:] {
		if typ != protocol.TypeCandidate {
			t.Fatalf("sent %v, want the offer, then its candidates", order)
		}
	}
}
