package signaling

import (
	"bytes"
	"crypto/hmac"
	"encoding/json"
	"fmt"
	"time"

	"github.com/broadcast-service/broadcast/protocol"
)

// RelayStarter starts rooms' relays: the relay manager (package relay)
// implements it, and the hub calls it through Options.Relay.
type RelayStarter interface {
	// StartRelay asks for room's relay: a socket that enters room on this
	// node as protocol.RoleRelay with Options.RelaySecret as its key, soon
	// enough for the requests the hub holds for it (Options.RelayHold).
	// The hub calls it when room needs its relay: in RelayAuto when the
	// talker first refuses a watcher as full, in RelayAlways when the
	// talker goes on air (its talk_ready to the room). It may be called
	// again for a room whose relay is starting or already in the room, and
	// must then do nothing and return nil. It is called on the routing
	// path, with no lock of the hub held, and must not block.
	//
	// It returns an error when it will not start room's relay (the relay
	// package's ErrTooManyRooms, wrapped, past its cap of rooms; its
	// closing): the hub then delivers at once what it held for that
	// relay, as without one (a watcher refused as full hears its
	// talk_reject {reason: "full"}), rather than after Options.RelayHold.
	StartRelay(room string) error
}

// RelayMode is when a hub with a RelayStarter hands watchers to a room's
// relay.
type RelayMode string

// Relay modes. The zero value is RelayAuto.
const (
	// RelayOff: never; a watcher past the talker's maximum hears its
	// talk_reject {reason: "full"}. A nil Options.Relay is the same.
	RelayOff RelayMode = "off"
	// RelayAuto: the talker's talk_reject {reason: "full"} is not
	// delivered; the watcher is handed to the room's relay instead, as a
	// talk_request from the watcher, and the relay is started if the room
	// has none.
	RelayAuto RelayMode = "auto"
	// RelayAlways: as RelayAuto, and every watcher's talk_request meant
	// for the talker goes to the relay instead; the relay is started when
	// the talker goes on air.
	RelayAlways RelayMode = "always"
)

// ParseRelayMode reads "auto", "off" or "always"; ErrBadRelayMode for
// anything else.
func ParseRelayMode(s string) (RelayMode, error) {
	switch m := RelayMode(s); m {
	case RelayAuto, RelayOff, RelayAlways:
		return m, nil
	}
	return "", fmt.Errorf("%w: %q (want auto, off or always)", ErrBadRelayMode, s)
}

// Defaults of the relay's hold (see Options.RelayHold and
// Options.RelayHeld).
const (
	// DefaultRelayHold is how long a request stays held for a relay that
	// has not entered its room yet.
	DefaultRelayHold = 10 * time.Second
	// DefaultRelayHeld is how many requests a room may have held at once.
	DefaultRelayHeld = 1000
)

// relaying reports whether the hub hands watchers to relays: it has a
// RelayStarter and its mode is not RelayOff.
func (h *Hub) relaying() bool {
	return h.opts.Relay != nil && h.opts.RelayMode != RelayOff
}

// Relaying reports whether the hub hands watchers to rooms' relays (it
// has a RelayStarter and its mode is not RelayOff): a talker that serves
// the relay alone (talk_ready {relayed: true}) can be watched only then.
func (h *Hub) Relaying() bool { return h.relaying() }

// relayAlways reports whether every watcher of talker goes to the room's
// relay: in RelayAlways, or as the talker said (talk_ready {relayed: true}).
func (h *Hub) relayAlways(talker *Client) bool {
	return h.opts.RelayMode == RelayAlways || talker.relayed.Load()
}

// checkRelayKey returns ErrBadKey unless key is the hub's relay secret;
// a hub without one admits no relay.
func (h *Hub) checkRelayKey(key string) error {
	s := h.opts.RelaySecret
	if s == "" || !hmac.Equal([]byte(key), []byte(s)) {
		return fmt.Errorf("%w: not the relay secret", ErrBadKey)
	}
	return nil
}

// relayOf returns room r's relay: the client if it is on this node, else
// the socket id of the relay on another node as last heard (see
// learnRelay) if the Cluster still has it in the room; nil and "" if
// none.
func (h *Hub) relayOf(r *room) (*Client, string) {
	if rc := r.relay.Load(); rc != nil {
		return rc, rc.id
	}
	if p := r.remoteRelay.Load(); p != nil && h.opts.Cluster.Member(r.name, *p) {
		return nil, *p
	}
	return nil, ""
}

// learnRelay notes, from a message routed on another node, that id is
// room r's relay there: only a server stamps `relay`, so the watchers
// here may then reach it (see Client.toTalker) and hear when it leaves.
func (r *room) learnRelay(id string) {
	if p := r.remoteRelay.Load(); p == nil || *p != id {
		r.remoteRelay.Store(&id)
	}
}

// toRelay routes data, a watcher's message (`from` stamped), to room r's
// relay, here or on another node, under the watchers' shares of its queue
// when here. It reports false if the room has no relay. The caller counts
// it routed.
func (h *Hub) toRelay(r *room, origin string, data []byte) (bool, error) {
	rc, id := h.relayOf(r)
	switch {
	case rc != nil:
		if err := rc.out.offer(NewFrame(protocol.EventMessage, data), origin); err != nil && !isClosed(err) {
			return true, err
		}
	case id != "":
		h.opts.Cluster.Send(r.name, id, data)
	default:
		return false, nil
	}
	return true, nil
}

// handOver gives watcher to room r's relay as a talk_request from the
// watcher, in place of what deliver would deliver: at once if the relay
// is in the room, else once it enters, or, past Options.RelayHold or
// Options.RelayHeld, by calling deliver after all. A relay not yet asked
// for is started, unless ready (if set) says the room is not ready for
// one, as of the request held: in RelayAlways, a talker not on air yet,
// whose talk_ready then starts the relay.
func (h *Hub) handOver(r *room, watcher string, request []byte, deliver func(), ready func() bool) {
	if ok, _ := h.toRelay(r, watcher, request); ok {
		return
	}
	first, ok := h.holds.hold(h, r.name, watcher, request, deliver)
	if !ok {
		deliver()
		return
	}
	// A relay that entered since toRelay looked may have taken what was
	// held before this request: hand it this one too.
	if rc := r.relay.Load(); rc != nil {
		h.relayEntered(r, rc)
		return
	}
	if first && (ready == nil || ready()) {
		h.startRelay(r)
	}
}

// startRelay asks for room r's relay; if none will start, the requests
// held for it are delivered at once, as without a relay.
func (h *Hub) startRelay(r *room) {
	err := h.opts.Relay.StartRelay(r.name)
	if err == nil {
		return
	}
	held := h.holds.take(r.name)
	h.log.Debug("no relay: held requests delivered", "room", r.name, "held", len(held), "err", err)
	for _, it := range held {
		it.deliver()
	}
}

// talkRequestFrom is a talk_request as the watcher id would have sent it,
// `from` stamped.
func talkRequestFrom(id string) []byte {
	data, _ := json.Marshal(protocol.TalkRequest{Head: protocol.Head{Type: protocol.TypeTalkRequest, From: id}})
	return data
}

// interceptFull hands a watcher the talker refused as full to the room's
// relay instead (RelayAuto and RelayAlways), and reports whether it did:
// m is the talker's message, to a watcher that is a member of room r.
func (c *Client) interceptFull(r *room, m message) bool {
	h := c.hub
	if !h.relaying() || m.typ != protocol.TypeTalkReject {
		return false
	}
	var reject struct {
		Reason string `json:"reason"`
	}
	if json.Unmarshal(m.raw, &reject) != nil || reject.Reason != protocol.RejectFull {
		return false
	}
	to, remote := h.reach(r, m.sendto)
	if _, relay := h.relayOf(r); (to == nil && !remote) || to == c || m.sendto == relay {
		return false
	}
	h.handOver(r, m.sendto, talkRequestFrom(m.sendto), func() { _ = c.toMember(r, m) }, nil)
	return true
}

// reach finds id in room r: the client here, or remote true if the
// Cluster has it on another node.
func (h *Hub) reach(r *room, id string) (to *Client, remote bool) {
	h.mu.RLock()
	to = h.clients[id]
	h.mu.RUnlock()
	if to != nil && to.room.Load() == r {
		return to, false
	}
	if to == nil && id != "" && h.opts.Cluster.Member(r.name, id) {
		return nil, true
	}
	return nil, false
}

// startOnAir starts the relay of a room going on air in RelayAlways, or
// with a talker that serves the relay alone (talk_ready {relayed: true}):
// the talker's talk_ready to the room, in a room without a relay. The
// requests held for it since before the talk_ready get Options.RelayHold
// from now.
func (c *Client) startOnAir(r *room, m message) {
	h := c.hub
	if m.typ != protocol.TypeTalkReady || m.sendto != "" || !h.relaying() || !h.relayAlways(c) {
		return
	}
	if rc, id := h.relayOf(r); rc == nil && id == "" {
		h.holds.renew(h, r.name)
		h.startRelay(r)
	}
}

// toLocalTalker delivers data, a message of type typ from origin (a
// watcher, or the relay), to talker, room r's talker on this node, under
// origin's share of its queue. In RelayAlways, with a talker that serves
// the relay alone, and for a watcher that offers (talk_request {offer}),
// a watcher's talk_request goes to the room's relay instead (see
// handOver); one that comes before
// the talker's talk_ready is held until the relay, started then, enters:
// the talker may be on air already with its talk_ready still on the way,
// and would serve the watcher itself.
func (h *Hub) toLocalTalker(r *room, talker *Client, typ, origin string, data []byte) error {
	f := NewFrame(protocol.EventMessage, data)
	deliver := func() error { return talker.out.offer(f, origin) }
	if typ == protocol.TypeTalkRequest && h.relaying() && (h.relayAlways(talker) || offers(data)) {
		if _, id := h.relayOf(r); origin != id {
			h.handOver(r, origin, data, func() {
				if err := deliver(); err != nil && !isClosed(err) {
					h.opts.Observer.Refused(Code(err))
				}
			}, talker.onAir.Load)
			return nil
		}
	}
	return deliver()
}

// fromRelay routes a message of room r's relay, c: offer, talk_reject,
// talk_ready, layer, candidate and answer (to a watcher that offered: see
// protocol.TalkRequest) to one watcher, and talk_request, answer,
// candidate, bye and stats to the talker, as a watcher's. It returns
// ErrNotTalker for a talker's message to the room or to the talker, and
// ErrUnknownRecipient for anything else.
func (c *Client) fromRelay(r *room, m message) error {
	talker := ""
	if t := r.talker.Load(); t != nil {
		talker = t.id
	} else if id, ok := c.hub.opts.Cluster.Talker(r.name); ok {
		talker = id
	}
	down := false
	switch m.typ {
	case protocol.TypeOffer, protocol.TypeTalkReject, protocol.TypeTalkReady, protocol.TypeLayer:
		down = true
	case protocol.TypeEndTalk:
		return fmt.Errorf("%w: %s from the relay", ErrNotTalker, m.typ)
	case protocol.TypeCandidate, protocol.TypeAnswer:
		// An answer down is to a watcher that offered (see TalkRequest).
		down = m.sendto != "" && m.sendto != talker
	}
	switch {
	case down && (m.sendto == "" || m.sendto == talker):
		return fmt.Errorf("%w: the relay sends %s to one watcher", ErrNotTalker, m.typ)
	case down:
		return c.toMember(r, m)
	case m.sendto != "" && m.sendto != talker:
		return fmt.Errorf("sendto %.40q: %w", m.sendto, ErrUnknownRecipient)
	}
	return c.toTalker(r, r.talker.Load(), m)
}

// offers reports whether data, a talk_request, carries the watcher's own
// SDP offer: only the room's relay answers one.
func offers(data []byte) bool {
	if !bytes.Contains(data, []byte(`"offer"`)) {
		return false
	}
	var req struct {
		Offer string `json:"offer"`
	}
	return json.Unmarshal(data, &req) == nil && req.Offer != ""
}

// peek reads what the hub needs of a message routed on another node: its
// stamped sender, its type and its relay stamp.
func peek(data []byte) (from, typ string, relay bool) {
	var m struct {
		From  string `json:"from"`
		Type  string `json:"type"`
		Relay bool   `json:"relay"`
	}
	_ = json.Unmarshal(data, &m)
	if m.From == "" {
		m.From = "remote"
	}
	return m.From, m.Type, m.Relay
}
