package cluster

// keys names the registry's Redis keys and channels under a prefix. The
// scripts build the room keys of a reaped node the same way.
type keys struct{ prefix string }

func (k keys) nodes() string              { return k.prefix + "nodes" }
func (k keys) alive(node string) string   { return k.prefix + "node:" + node }
func (k keys) sockets(node string) string { return k.prefix + "node:" + node + ":sockets" }

// nodeChannel carries messages routed to one socket on the node.
func (k keys) nodeChannel(node string) string { return k.prefix + "node:" + node }

// roomChannel carries a room's membership events and broadcasts.
func (k keys) roomChannel(room string) string { return k.prefix + "room:" + room }

// room returns a room's members, talker and version keys, in that order.
func (k keys) room(room string) []string {
	base := k.prefix + "room:" + room
	return []string{base + ":members", base + ":talker", base + ":ver"}
}
