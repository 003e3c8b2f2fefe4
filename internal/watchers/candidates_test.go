package watchers

import (
	"sync"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"

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
			// Loopback candidates too: some are gathered on any host.
			se := webrtc.SettingEngine{}
			se.SetIncludeLoopbackCandidate(true)
			var err error
			if pc, err = webrtc.NewAPI(webrtc.WithSettingEngine(se)).NewPeerConnection(webrtc.Configuration{}); err != nil {
				return nil, err
			}
			t.Cleanup(func() { _ = pc.Close() })
			if _, err := pc.CreateDataChannel("data", nil); err != nil {
				return nil, err
			}
			done := webrtc.GatheringCompletePromise(pc)
			go func() { <-done; close(gathered) }()
			return &fakePeer{pc: pc, live: make(chan struct{}, 1)}, nil
		},
		Send: func(msg protocol.Typed) error {
			if msg.MessageType() == protocol.TypeOffer {
				select {
				case <-gathered:
				case <-time.After(10 * time.Second):
					t.Error("ICE gathering not complete within 10 s")
				}
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
