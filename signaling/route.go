package signaling

import (
	"encoding/json"
	"errors"
	"fmt"

	"golang.org/x/time/rate"

	"github.com/broadcast-service/broadcast/protocol"
)

// Message routes one `message` from the client, stamping `from` with the
// client's id (and `relay: true` for the room's relay). The talker's
// message goes to its `sendto`, which must be a member of the room, or
// else to every other member; a watcher's goes to the talker alone, or
// to the room's relay (a `sendto` must name one of them). The relay's
// goes to one watcher or to the talker (see fromRelay). In an open hub a
// plain-enter client becomes the talker by sending a room's first
// talk_ready. With a relay mode (Options.Relay), the talker's
// talk_reject {reason: "full"} hands the watcher to the room's relay
// instead of reaching it, and in RelayAlways so does a watcher's
// talk_request.
//
// It returns ErrTooLarge, ErrRateLimited, ErrNotInRoom, ErrBadMessage,
// ErrUnknownType, ErrNotTalker for a talker's type from anyone else, and
// ErrUnknownRecipient for a `sendto` the sender may not reach.
func (c *Client) Message(raw []byte) error {
	r, m, err := c.admitMessage(raw)
	if err != nil {
		return err
	}
	if c.relay.Load() {
		return c.fromRelay(r, m)
	}
	talker := r.talker.Load()
	if protocol.TalkerOnly(m.typ) && talker != c {
		if !c.claimTalker(r, m.typ) {
			return fmt.Errorf("%w: %s", ErrNotTalker, m.typ)
		}
		talker = c
	}
	if talker != c {
		return c.toTalker(r, talker, m)
	}
	c.trackOnAir(m)
	c.startOnAir(r, m)
	if m.sendto != "" {
		if c.interceptFull(r, m) {
			return nil
		}
		return c.toMember(r, m)
	}
	c.toRoom(r, m)
	return nil
}

// admitMessage checks a `message` against the size limit, the socket's
// message rate (not the relay's: it speaks for all its watchers) and its
// being in a room, then parses it. It returns the client's room and the
// message.
func (c *Client) admitMessage(raw []byte) (*room, message, error) {
	lim := c.hub.opts.Limits
	if len(raw) > lim.MessageBytes {
		return nil, message{}, fmt.Errorf("%w: %d bytes, the limit is %d", ErrTooLarge, len(raw), lim.MessageBytes)
	}
	if c.relay.Load() {
		c.refusals.Store(0)
	} else if err := c.allow(c.limiter, "messages", lim.MessagesPerSecond); err != nil {
		return nil, message{}, err
	}
	r := c.room.Load()
	if r == nil || c.left.Load() {
		return nil, message{}, ErrNotInRoom
	}
	m, err := parseMessage(raw)
	return r, m, err
}

// allow takes a token from lim, one of the client's buckets for what (at
// most perSecond a second). Without one it returns ErrRateLimited, and
// evicts a client refused AbuseRefusals times in a row.
func (c *Client) allow(lim *rate.Limiter, what string, perSecond float64) error {
	if !lim.Allow() {
		if c.refusals.Add(1) >= AbuseRefusals {
			go c.evict(ErrRateLimited)
		}
		return fmt.Errorf("%w: over %g %s/s", ErrRateLimited, perSecond, what)
	}
	c.refusals.Store(0)
	return nil
}

// claimTalker makes a plain-enter client the talker of a room without one, in
// an open hub, on its first talk_ready.
func (c *Client) claimTalker(r *room, typ string) bool {
	h := c.hub
	if typ != protocol.TypeTalkReady || h.opts.Keys != nil || !c.plainEnter.Load() {
		return false
	}
	cl := h.opts.Cluster
	if _, ok := cl.Talker(r.name); ok || cl.ClaimTalker(r.name, c.id) != nil {
		return false
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if c.left.Load() || c.room.Load() != r || r.talker.Load() != nil || h.reservedLocked(r.name, "") {
		return false
	}
	r.talker.Store(c)
	c.talker.Store(true)
	h.log.Debug("plain-enter client claimed the talker role", "socket_id", c.id, "room", r.name)
	return true
}

// trackOnAir notes the talker going on and off air with talk_ready and
// end_talk (a talker lost on air has its room held: protocol.RetakeWindow),
// and whether its talk_ready to the room said it serves the relay alone.
func (c *Client) trackOnAir(m message) {
	switch m.typ {
	case protocol.TypeTalkReady:
		c.onAir.Store(true)
		if m.sendto == "" {
			var ready struct {
				Relayed bool `json:"relayed"`
			}
			_ = json.Unmarshal(m.raw, &ready) // parsed as an object already
			c.relayed.Store(ready.Relayed)
		}
	case protocol.TypeEndTalk:
		c.onAir.Store(false)
		c.relayed.Store(false)
	}
}

// toMember routes the talker's message to its `sendto`, a member of room r
// here or on another node; ErrUnknownRecipient for anyone else.
func (c *Client) toMember(r *room, m message) error {
	h := c.hub
	h.mu.RLock()
	to := h.clients[m.sendto]
	h.mu.RUnlock()
	data := m.stamp(c.stampFrom())
	switch {
	case to != nil && to != c && to.room.Load() == r:
		to.out.push(NewFrame(protocol.EventMessage, data))
	case to == nil && h.opts.Cluster.Member(r.name, m.sendto):
		h.opts.Cluster.Send(r.name, m.sendto, data)
	default:
		return fmt.Errorf("sendto %.40q: %w", m.sendto, ErrUnknownRecipient)
	}
	h.opts.Observer.Routed(m.typ, len(data), 1)
	return nil
}

// toRoom routes the talker's message to every other member of room r, on
// this node and on the others.
func (c *Client) toRoom(r *room, m message) {
	h := c.hub
	members := *r.members.Load()
	data := m.stamp(c.stampFrom())
	remote := h.opts.Cluster.Broadcast(r.name, data)
	if len(members) >= 2 {
		f := NewFrame(protocol.EventMessage, data)
		for _, to := range members {
			if to != c {
				to.out.push(f)
			}
		}
	}
	if n := len(members) - 1 + remote; n > 0 {
		h.opts.Observer.Routed(m.typ, len(data), n)
	}
}

// toTalker routes a watcher's message (or the relay's, upstream) to the
// room's talker alone: talker, if it is on this node, or else the talker
// the cluster knows; or, with its id in `sendto`, to the room's relay. It
// returns ErrTooLarge over the watchers' size caps and ErrTalkerBusy past
// the watcher's share of the talker's (or the relay's) queue.
func (c *Client) toTalker(r *room, talker *Client, m message) error {
	if err := c.checkWatcherSize(m); err != nil {
		return err
	}
	h := c.hub
	remote := ""
	if talker == nil {
		remote, _ = h.opts.Cluster.Talker(r.name)
	}
	relayID := ""
	if m.sendto != "" && !c.relay.Load() {
		_, relayID = h.relayOf(r)
	}
	switch {
	case relayID != "" && m.sendto == relayID:
		data := m.stamp(c.stampFrom())
		if _, err := h.toRelay(r, c.id, data); err != nil {
			return err
		}
		h.opts.Observer.Routed(m.typ, len(data), 1)
	case talker != nil && (m.sendto == "" || m.sendto == talker.id):
		data := m.stamp(c.stampFrom())
		if err := h.toLocalTalker(r, talker, m.typ, c.id, data); err != nil {
			if errors.Is(err, ErrClosed) {
				return nil // the talker is leaving; the watcher hears of it
			}
			return err
		}
		h.opts.Observer.Routed(m.typ, len(data), 1)
	case remote != "" && (m.sendto == "" || m.sendto == remote):
		data := m.stamp(c.stampFrom())
		h.opts.Cluster.Send(r.name, remote, data)
		h.opts.Observer.Routed(m.typ, len(data), 1)
	case remote != "" && m.typ == protocol.TypeTalkRequest && h.opts.Cluster.Member(r.name, m.sendto):
		// A watcher back on this node (restarted) asks to resume its
		// session with the room's relay, which runs on the talker's node
		// and has not been heard from here yet. Its node delivers the
		// request only to its relay (Deliver); the relay's reply, stamped
		// relay, then tells this node who the relay is.
		data := m.stamp(c.stampFrom())
		h.opts.Cluster.Send(r.name, m.sendto, data)
		h.opts.Observer.Routed(m.typ, len(data), 1)
	case m.sendto != "":
		return fmt.Errorf("sendto %.40q: %w", m.sendto, ErrUnknownRecipient)
	default:
		return nil // no talker yet: nobody to hear it, as in the original Node server (bench/classic)
	}
	// The relay's stats are its count, or its watchers' reports passed
	// on, each counted already as the watcher sent it to the relay.
	if m.typ == protocol.TypeStats && !c.relay.Load() {
		h.opts.Observer.ViewerReport(parseReport(m.raw))
	}
	return nil
}

// checkWatcherSize returns ErrTooLarge for a watcher's message over
// Limits.WatcherMessageBytes, or a stats report over Limits.StatsBytes.
func (c *Client) checkWatcherSize(m message) error {
	lim := c.hub.opts.Limits
	switch {
	case len(m.raw) > lim.WatcherMessageBytes:
		return fmt.Errorf("%w: %d bytes, the limit for a watcher is %d", ErrTooLarge, len(m.raw), lim.WatcherMessageBytes)
	case m.typ == protocol.TypeStats && len(m.raw) > lim.StatsBytes:
		return fmt.Errorf("%w: %d bytes, the limit for stats is %d", ErrTooLarge, len(m.raw), lim.StatsBytes)
	}
	return nil
}
