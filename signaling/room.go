package signaling

import (
	"encoding/json"
	"sync/atomic"

	"github.com/broadcast-service/broadcast/protocol"
)

// room is one room as this node holds it: its members connected here,
// in the order they entered, and its talker and its relay if they are
// among them.
type room struct {
	name string
	// members, talker and relay are replaced, never modified, under
	// Hub.mu, so routing reads them without a lock.
	members atomic.Pointer[[]*Client]
	talker  atomic.Pointer[Client]
	relay   atomic.Pointer[Client]
	// remoteRelay is the socket id of the room's relay on another node,
	// as last heard from a message it sent (see learnRelay).
	remoteRelay atomic.Pointer[string]
}

// role is what a client enters a room as.
type role struct{ talker, relay bool }

// roleOf is the role an enter request asks for.
func roleOf(r protocol.Role) role {
	return role{talker: r == protocol.RoleTalker, relay: r == protocol.RoleRelay}
}

// addLocked makes c the last member of room name, creating the room if
// need be, and, as as asks, its talker or its relay. Hub.mu must be held.
func (h *Hub) addLocked(c *Client, name string, as role, retake string) {
	r := h.rooms[name]
	if r == nil {
		r = &room{name: name}
		r.members.Store(&[]*Client{})
		h.rooms[name] = r
	}
	members := *r.members.Load()
	next := make([]*Client, len(members), len(members)+1)
	copy(next, members)
	next = append(next, c)
	r.members.Store(&next)
	c.room.Store(r)
	c.idle.Stop()
	c.talker.Store(as.talker)
	c.relay.Store(as.relay)
	if as.talker {
		r.talker.Store(c)
		h.becomeTalkerLocked(c, name, retake)
	}
	if as.relay {
		r.relay.Store(c)
		// Relays connect from the server's own address, one per room:
		// they do not count toward the sockets per address.
		h.uncountAddrLocked(c)
	}
}

// removeLocked takes c out of r and returns who must hear of it: every
// member if c was the talker or the relay, else the talker and the relay.
// An emptied room is forgotten; a talker's leaving drops what was held
// for the room's relay. Hub.mu must be held.
func (h *Hub) removeLocked(r *room, c *Client) []*Client {
	members := *r.members.Load()
	rest := make([]*Client, 0, len(members))
	for _, m := range members {
		if m != c {
			rest = append(rest, m)
		}
	}
	r.members.Store(&rest)
	if len(rest) == 0 {
		delete(h.rooms, r.name)
	}
	if r.relay.Load() == c {
		r.relay.Store(nil)
		c.relay.Store(false)
		return rest
	}
	t := r.talker.Load()
	if t == c {
		r.talker.Store(nil)
		c.talker.Store(false)
		h.holds.drop(r.name)
		return rest
	}
	var notify []*Client
	if t != nil {
		notify = append(notify, t)
	}
	if rc := r.relay.Load(); rc != nil {
		notify = append(notify, rc)
	}
	return notify
}

// sendDisconnected tells to that the socket id left.
func sendDisconnected(id string, to []*Client) {
	if len(to) == 0 {
		return
	}
	data, _ := json.Marshal(protocol.UserDisconnected{ID: id})
	f := NewFrame(protocol.EventUserDisconnected, data)
	for _, m := range to {
		m.out.push(f)
	}
}
