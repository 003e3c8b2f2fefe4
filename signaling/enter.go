package signaling

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/broadcast-service/broadcast/protocol"
)

// Enter puts the client in a room with a role, leaving the room it was in
// (whose members are told `user disconnected` as routing allows), and sends
// it `entered`. It returns ErrBadRoom for a name ValidRoomName refuses,
// ErrBadKey or ErrExpired for a key that does not do, ErrRoomTaken for a
// second talker or a second relay, ErrRoomFull over the room's socket
// limit (never for the relay, which does not count toward it),
// ErrRateLimited over the socket's enter rate (Limits.EntersPerSecond), and
// ErrClosed after Leave. A relay needs Options.RelaySecret as its key
// (ErrBadKey). A watcher that entered with a watch key is dropped with
// ErrExpired when the key expires.
func (c *Client) Enter(req protocol.EnterRequest) error {
	expires, err := c.admitEnter(req)
	if err != nil {
		return err
	}
	as := roleOf(req.Role)
	if c.inRoomAs(req.Room, as) {
		_, err = c.enter(req.Room, as, req.Retake)
	} else {
		err = c.enterAcrossNodes(req.Room, as, req.Retake)
	}
	if err != nil {
		return err
	}
	c.plainEnter.Store(req.Role == protocol.RolePlain)
	c.expireAt(req.Room, expires)
	return nil
}

// admitEnter checks an enter request against the socket's enter rate, the
// room name rules and the room's keys, and returns when a watch key
// expires (zero for no expiry). An attempt, even a refused one, buys a
// socket outside a room another Limits.EnterTimeout.
func (c *Client) admitEnter(req protocol.EnterRequest) (time.Time, error) {
	h := c.hub
	if err := c.allow(c.enters, "enters", h.opts.Limits.EntersPerSecond); err != nil {
		return time.Time{}, err
	}
	if c.room.Load() == nil {
		c.idle.Reset(h.opts.Limits.EnterTimeout)
	}
	if err := ValidRoomName(req.Room); err != nil {
		return time.Time{}, err
	}
	return h.checkKey(req)
}

// checkKey verifies the key of an enter request, as the hub's mode wants,
// and returns when a watch key expires (zero for no expiry).
func (h *Hub) checkKey(req protocol.EnterRequest) (time.Time, error) {
	if req.Role == protocol.RoleRelay {
		return time.Time{}, h.checkRelayKey(req.Key)
	}
	k := h.opts.Keys
	if k == nil {
		return time.Time{}, nil // open rooms: keys are not needed, and not checked
	}
	if req.Role == protocol.RoleTalker {
		return time.Time{}, k.CheckTalk(req.Room, req.Key)
	}
	if req.Key == "" && !h.opts.PrivateRooms {
		return time.Time{}, nil
	}
	if req.Key == "" {
		return time.Time{}, fmt.Errorf("%w: this room needs a watch key", ErrBadKey)
	}
	return k.WatchExpiry(req.Room, req.Key, h.now())
}

// inRoomAs reports whether the client is already in room with the role.
func (c *Client) inRoomAs(room string, as role) bool {
	r := c.room.Load()
	return r != nil && r.name == room && c.talker.Load() == as.talker && c.relay.Load() == as.relay
}

// enterAcrossNodes enters room as enter does, after the Cluster has
// checked the room's limit and talker across nodes; what the entry here
// then refuses is undone there.
func (c *Client) enterAcrossNodes(room string, as role, retake string) error {
	h := c.hub
	cl := h.opts.Cluster
	if err := cl.Join(room, c.id, as.talker, h.roomLimit(room, as)); err != nil {
		return err
	}
	old, err := c.enter(room, as, retake)
	now := c.Room()
	switch {
	case err != nil && now != "" && !errors.Is(err, ErrClosed):
		c.rejoinCluster(room, now)
	case err != nil:
		cl.Leave(room, c.id)
	case old != "" && old != room:
		cl.Leave(old, c.id)
	}
	if c.left.Load() { // it left while the cluster was asked: take it out
		if now != "" && now != room {
			cl.Leave(now, c.id)
		}
		cl.Leave(room, c.id)
	}
	return err
}

// rejoinCluster puts the client back in the Cluster as it still is here,
// in room now, after this node refused its entry to room: the Cluster's
// Join had moved it out of now. A Cluster that refuses that gets the
// client kicked.
func (c *Client) rejoinCluster(room, now string) {
	h := c.hub
	cl := h.opts.Cluster
	// One over the limit: its place in now may have been taken meanwhile.
	if err := cl.Join(now, c.id, c.IsTalker(), h.opts.Limits.RoomSockets+1); err != nil {
		h.Kick(c.id, err)
	}
	if now != room {
		cl.Leave(room, c.id)
	}
}

// roomLimit is the limit of sockets in room across nodes for a socket
// entering as as: Limits.RoomSockets, one more when the room has a relay
// (which the Cluster counts, and which counts toward no limit), and none
// for the relay itself.
func (h *Hub) roomLimit(room string, as role) int {
	lim := h.opts.Limits.RoomSockets
	if as.relay {
		return math.MaxInt32
	}
	h.mu.RLock()
	r := h.rooms[room]
	h.mu.RUnlock()
	if r != nil {
		if rc, id := h.relayOf(r); rc != nil || id != "" {
			lim++
		}
	}
	return lim
}

// enter makes the client a member of room name, in the role as asks,
// here on this node, and returns the name of the room it left ("" if
// none). A client already in the room with that role is only sent
// `entered` again. A relay that enters is handed the requests held for it.
func (c *Client) enter(name string, as role, retake string) (string, error) {
	h := c.hub
	h.mu.Lock()
	if c.left.Load() {
		h.mu.Unlock()
		return "", ErrClosed
	}
	old := c.room.Load()
	if c.inRoomAs(name, as) {
		h.mu.Unlock()
		c.sendEntered(name)
		return name, nil
	}
	if err := h.admitToRoomLocked(c, old, name, as, retake); err != nil {
		h.mu.Unlock()
		return "", err
	}
	var notify []*Client
	oldName := ""
	if old != nil {
		oldName = old.name
		notify = h.removeLocked(old, c)
	}
	h.addLocked(c, name, as, retake)
	r := h.rooms[name]
	h.mu.Unlock()

	sendDisconnected(c.id, notify)
	h.log.Debug("entered room", "socket_id", c.id, "room", name, "talker", as.talker, "relay", as.relay)
	c.sendEntered(name)
	if as.relay {
		h.relayEntered(r, c)
	}
	return oldName, nil
}

func (c *Client) sendEntered(room string) {
	role := protocol.RoleWatcher
	switch {
	case c.talker.Load():
		role = protocol.RoleTalker
	case c.relay.Load():
		role = protocol.RoleRelay
	}
	entered := protocol.Entered{Room: room, Role: role}
	if f := c.hub.opts.ICEServers; f != nil {
		entered.ICEServers = f(c.id)
	}
	if entered.ICEServers == nil {
		entered.ICEServers = []protocol.ICEServer{} // [] on the wire, never null
	}
	c.hub.mu.RLock()
	if role == protocol.RoleTalker {
		entered.Retake = c.retake
	}
	c.hub.mu.RUnlock()
	data, _ := json.Marshal(entered)
	c.out.push(NewFrame(protocol.EventEntered, data))
}

// admitToRoomLocked checks that c, now in room old (nil if none), may enter room
// name, in the role as asks: ErrRoomFull at Limits.RoomSockets (the
// relay neither counts nor is refused), ErrRoomTaken if the room has
// another talker or is held for a lost one whose retake token is not
// retake, or, for a relay, if it has another relay. Hub.mu must be held.
func (h *Hub) admitToRoomLocked(c *Client, old *room, name string, as role, retake string) error {
	talker := as.talker
	r := h.rooms[name]
	if r != nil && r != old && !as.relay {
		n := len(*r.members.Load())
		if r.relay.Load() != nil {
			n--
		}
		if n >= h.opts.Limits.RoomSockets {
			return fmt.Errorf("%w: %d sockets", ErrRoomFull, n)
		}
	}
	if as.relay && r != nil {
		if rc := r.relay.Load(); rc != nil && rc != c {
			return fmt.Errorf("%w: the room has its relay", ErrRoomTaken)
		}
	}
	if talker && r != nil {
		if t := r.talker.Load(); t != nil && t != c {
			return ErrRoomTaken
		}
	}
	if talker && h.reservedLocked(name, retake) {
		return fmt.Errorf("%w: held for its talker's return", ErrRoomTaken)
	}
	return nil
}

// expireAt drops the client, with ErrExpired, when its watch key for room
// expires; a zero expires cancels that. Each Enter replaces the previous
// deadline.
func (c *Client) expireAt(room string, expires time.Time) {
	h := c.hub
	h.mu.Lock()
	defer h.mu.Unlock()
	if c.expiry != nil {
		c.expiry.Stop()
		c.expiry = nil
	}
	if expires.IsZero() || c.left.Load() {
		return
	}
	c.expiry = time.AfterFunc(expires.Sub(h.now()), func() {
		if c.Room() == room {
			h.Kick(c.id, fmt.Errorf("%w: the watch key expired at %s", ErrExpired, expires.UTC().Format(time.RFC3339)))
		}
	})
}

// enterTimedOut drops a client that has not entered a room in time.
func (c *Client) enterTimedOut() {
	if c.room.Load() != nil || c.left.Load() {
		return
	}
	c.hub.log.Debug("closing socket that never entered", "socket_id", c.id)
	c.hub.opts.Observer.Refused(Code(ErrEnterTimeout))
	c.Leave()
	Refuse(c.sink, fmt.Errorf("%w: enter within %v of connecting", ErrEnterTimeout, c.hub.opts.Limits.EnterTimeout))
}
