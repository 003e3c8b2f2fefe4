package cluster_test

import (
	"testing"

	"github.com/broadcast-service/broadcast/internal/redistest"
	"github.com/broadcast-service/broadcast/protocol"
	"github.com/broadcast-service/broadcast/signaling"
)

// BenchmarkRejoinAcrossNodes: a watcher enters a room whose talker is on
// another node, on a node where it is the room's only member, and leaves
// again, as a viewer reloading its page does; the talker hears each
// departure. One op is one enter (to its `entered`) and one leave.
func BenchmarkRejoinAcrossNodes(b *testing.B) {
	rs := redistest.Start(b)
	n1, n2 := startNode(b, rs.URL(), signaling.Limits{}), startNode(b, rs.URL(), signaling.Limits{})
	talker := n1.join(b, "a", protocol.RoleTalker)
	b.ResetTimer()
	for range b.N {
		w := n2.join(b, "a", protocol.RoleWatcher)
		w.c.Leave()
		talker.want(protocol.EventUserDisconnected, w.c.ID())
	}
}
