package signaling

import (
	"encoding/json"
	"sync/atomic"

	"github.com/broadcast-service/broadcast/protocol"
)

// room is one room as this node holds it: its members connected here,
// in the order they entered, and its talker if that is one of them.
type room struct {
	name string
	// members and talker are replaced, never modified, under Hub.mu, so
	// routing reads them without a lock.
	members atomic.Pointer[[]*Client]
	talker  atomic.Pointer[Client]
}

// addLocked makes c the last member of room name, creating the room if
// need be, and, if talker, its talker. Hub.mu must be held.
func (h *Hub) addLocked(c *Client, name string, talker bool, retake string) {
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
	c.talker.Store(talker)
	if talker {
		r.talker.Store(c)
		h.becomeTalkerLocked(c, name, retake)
	}
}

// removeLocked takes c out of r and returns who must hear of it: every
// member if c was the talker, else the talker alone. An emptied room is
// forgotten. Hub.mu must be held.
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
	t := r.talker.Load()
	if t == c {
		r.talker.Store(nil)
		c.talker.Store(false)
		return rest
	}
	if t != nil {
		return []*Client{t}
	}
	return nil
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
