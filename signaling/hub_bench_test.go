package signaling

import (
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/broadcast-service/broadcast/protocol"
)

// countSink counts messages delivered.
type countSink struct{ wg *sync.WaitGroup }

func (s countSink) WriteFrames(frames []*Frame) error {
	for _, f := range frames {
		if f.Event == protocol.EventMessage {
			s.wg.Done()
		}
	}
	return nil
}

func (s countSink) Close() error { return nil }

// BenchmarkHubFanout routes 1 KB room broadcasts in 20 rooms of 10 members,
// from all cores at once, to sinks that only count. An op is one message
// routed, so 9 deliveries; deliveries/s is the room fan-out rate.
func BenchmarkHubFanout(b *testing.B) {
	const rooms, members = 20, 10
	h := NewHub(Options{QueueBytes: 64 << 20, Limits: Limits{MessagesPerSecond: 1e9, MessageBurst: 1e9}})
	var wg sync.WaitGroup
	senders := make([]*Client, rooms)
	for r := range rooms {
		for m := range members {
			c, err := h.Connect(fmt.Sprintf("r%d-m%d", r, m), "", countSink{&wg})
			if err != nil {
				b.Fatal(err)
			}
			role := protocol.RoleWatcher
			if m == 0 {
				role = protocol.RoleTalker
			}
			if err := c.Enter(protocol.EnterRequest{Room: fmt.Sprintf("room-%d", r), Role: role}); err != nil {
				b.Fatal(err)
			}
			if m == 0 {
				senders[r] = c
			}
		}
	}
	msg := fmt.Appendf(nil, `{"type":"candidate","candidate":%q,"sdpMid":"0","sdpMLineIndex":0}`, strings.Repeat("x", 1000))
	var next atomic.Int64
	wg.Add(b.N * (members - 1))
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			s := senders[next.Add(1)%rooms]
			if err := s.Message(msg); err != nil {
				b.Error(err)
				return
			}
		}
	})
	wg.Wait()
	b.StopTimer()
	b.ReportMetric(float64(b.N*(members-1))/b.Elapsed().Seconds(), "deliveries/s")
	if err := h.Close(b.Context()); err != nil {
		b.Fatal(err)
	}
}
