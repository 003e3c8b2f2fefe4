package signaling

import (
	"bytes"
	"encoding/json"
	"errors"

	"github.com/broadcast-service/broadcast/protocol"
)

// Cluster spans a hub's rooms across nodes. The hub keeps its own sockets;
// it asks the Cluster about members on other nodes and sends to them
// through it. Package cluster implements it over Redis; a hub given none
// uses singleNode, a cluster of this node alone.
//
// Join and ClaimTalker may block on the network for a bounded time; the
// other methods must not block.
type Cluster interface {
	// Join records id as a member of room, its talker if talker, atomically
	// across nodes. It returns ErrRoomFull when the room already has limit
	// members and ErrRoomTaken when another socket is its talker. A Cluster
	// that cannot reach the other nodes lets the socket in (nil).
	Join(room, id string, talker bool, limit int) error
	// ClaimTalker makes id, a member of room, the room's talker if it has
	// none; ErrRoomTaken if it has one.
	ClaimTalker(room, id string) error
	// Leave records that id left room.
	Leave(room, id string)
	// Talker returns the id of room's talker when it is on another node.
	Talker(room string) (id string, ok bool)
	// Member reports whether id is a member of room on another node.
	Member(room, id string) bool
	// Broadcast sends a routed message (its JSON, `from` stamped) to every
	// member of room on other nodes, and returns how many it addressed.
	Broadcast(room string, data []byte) int
	// Send sends a routed message to id, a member of room on another node.
	Send(room, id string, data []byte)
}

// singleNode is the Cluster of a hub that runs alone: there are no other
// nodes, so no member elsewhere, no remote talker and nobody to send to.
// It lets every join in; the hub's own room limit and talker checks are
// then the only ones.
type singleNode struct{}

var _ Cluster = singleNode{}

func (singleNode) Join(string, string, bool, int) error { return nil }
func (singleNode) ClaimTalker(string, string) error     { return nil }
func (singleNode) Leave(string, string)                 {}
func (singleNode) Talker(string) (string, bool)         { return "", false }
func (singleNode) Member(string, string) bool           { return false }
func (singleNode) Broadcast(string, []byte) int         { return 0 }
func (singleNode) Send(string, string, []byte)          {}

// Deliver hands the hub a message routed on another node: data is the
// message's JSON, `from` stamped. It goes to the member `to` of room, or to
// every member of room when to is "". A recipient no longer in room is
// skipped. A watcher's message to a talker (or the relay) here is offered
// under the watchers' shares of its queue, as on the watcher's own node,
// and dropped past them (ErrTalkerBusy, counted as a refusal); in
// RelayAlways a watcher's talk_request to a talker here goes to the room's
// relay. A message stamped `relay` tells the hub the room's relay on
// another node, so that watchers here may reach it. A talk_request for a
// member here other than the talker or the relay is dropped (a watcher's
// node forwards one for a member it does not know to be the relay: see
// Client.toTalker) and counted as refused, unknown_recipient.
func (h *Hub) Deliver(room, to string, data []byte) {
	h.mu.RLock()
	r := h.rooms[room]
	var one *Client
	if to != "" {
		one = h.clients[to]
	}
	h.mu.RUnlock()
	if r == nil {
		return
	}
	f := NewFrame(protocol.EventMessage, data)
	if to != "" {
		switch {
		case one == nil || one.room.Load() != r:
		case r.talker.Load() == one:
			from, typ, _ := peek(data)
			if err := h.toLocalTalker(r, one, typ, from, data); errors.Is(err, ErrTalkerBusy) {
				h.opts.Observer.Refused(Code(err))
			}
		case r.relay.Load() == one:
			if err := one.out.offer(f, remoteOrigin(data)); errors.Is(err, ErrTalkerBusy) {
				h.opts.Observer.Refused(Code(err))
			}
		default:
			if _, typ, _ := peek(data); typ == protocol.TypeTalkRequest {
				// Only a watcher asks, and only its talker or the relay
				// (Client.toTalker): not one of this node's watchers.
				h.opts.Observer.Refused(Code(ErrUnknownRecipient))
				return
			}
			if bytes.Contains(data, []byte(`"relay":true`)) {
				if from, _, relay := peek(data); relay {
					r.learnRelay(from)
				}
			}
			one.out.push(f)
		}
		return
	}
	for _, m := range *r.members.Load() {
		m.out.push(f)
	}
}

// Departed tells the hub that id, a member of room on another node, left:
// the hub's members of room hear `user disconnected` {id}, all of them if
// id was the talker or the room's relay, else the room's talker and relay
// if they are here.
func (h *Hub) Departed(room, id string, talker bool) {
	h.mu.RLock()
	r := h.rooms[room]
	h.mu.RUnlock()
	if r == nil {
		return
	}
	var to []*Client
	if p := r.remoteRelay.Load(); p != nil && *p == id {
		r.remoteRelay.CompareAndSwap(p, nil)
		talker = true // everyone hears, as of the talker
	}
	if talker {
		to = *r.members.Load()
	} else {
		if t := r.talker.Load(); t != nil {
			to = append(to, t)
		}
		if rc := r.relay.Load(); rc != nil {
			to = append(to, rc)
		}
	}
	sendDisconnected(id, to)
}

// Kick tells the socket id why it must go (a `signaling_error` for err),
// then drops it as if it had left. Unknown ids are ignored.
func (h *Hub) Kick(id string, err error) {
	h.mu.RLock()
	c := h.clients[id]
	h.mu.RUnlock()
	if c == nil {
		return
	}
	h.log.Info("kicking client", "socket_id", id, "room", c.Room(), "reason", err.Error())
	c.Leave()
	Refuse(c.sink, err)
}

// remoteOrigin is the sender of a message routed on another node: its
// stamped `from`, or "remote" if it has none.
func remoteOrigin(data []byte) string {
	var m struct {
		From string `json:"from"`
	}
	if json.Unmarshal(data, &m) != nil || m.From == "" {
		return "remote"
	}
	return m.From
}
