package signaling

import (
	"encoding/json"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"github.com/broadcast-service/broadcast/protocol"
)

// Client is one connected socket as the hub sees it.
type Client struct {
	id   string
	addr string
	from []byte // `"from":"<id>"`, spliced into routed messages
	// relayFrom is `"relay":true,"from":"<id>"`, spliced instead while
	// the client is its room's relay.
	relayFrom []byte
	hub       *Hub
	out       *outbox
	sink      Sink
	limiter   *rate.Limiter // messages
	enters    *rate.Limiter

	idle       *time.Timer          // while outside a room; see Limits.EnterTimeout
	expiry     *time.Timer          // until the watch key expires; guarded by Hub.mu
	room       atomic.Pointer[room] // written under Hub.mu
	talker     atomic.Bool          // the talker of its room; written under Hub.mu
	relay      atomic.Bool          // the relay of its room; written under Hub.mu
	plainEnter atomic.Bool          // entered with a plain room name (a plain enter): may claim the talker role
	onAir      atomic.Bool          // its room's talker, between talk_ready and end_talk
	relayed    atomic.Bool          // its room's talker, on air with talk_ready {relayed: true}: it serves the relay alone
	retake     string               // the talker's retake token in an open hub; guarded by Hub.mu
	// addrUncounted: the client no longer counts toward Limits.AddrSockets
	// (it left, or it is a relay); guarded by Hub.mu.
	addrUncounted bool
	left          atomic.Bool  // set once, under Hub.mu
	refusals      atomic.Int32 // rate refusals in a row
}

// ID returns the client's socket id, the `from` of what it sends.
func (c *Client) ID() string { return c.id }

// Room returns the name of the client's room, or "" before Enter.
func (c *Client) Room() string {
	if r := c.room.Load(); r != nil {
		return r.name
	}
	return ""
}

// IsTalker reports whether the client is its room's talker.
func (c *Client) IsTalker() bool { return c.talker.Load() }

// IsRelay reports whether the client is its room's relay.
func (c *Client) IsRelay() bool { return c.relay.Load() }

// stampFrom is what stamps the client's messages: its `from`, and
// `relay: true` while it is its room's relay.
func (c *Client) stampFrom() []byte {
	if c.relay.Load() {
		return c.relayFrom
	}
	return c.from
}

// Leave removes the client from the hub and tells its room `user
// disconnected` {id} (everyone, for the talker; the talker, for a watcher).
// It is idempotent: the transport may call it more than once, and only the
// first call notifies.
func (c *Client) Leave() {
	h := c.hub
	h.mu.Lock()
	if c.left.Load() {
		h.mu.Unlock()
		return
	}
	r, notify := h.forgetLocked(c)
	h.mu.Unlock()

	c.out.close()
	sendDisconnected(c.id, notify)
	if r != nil {
		h.opts.Cluster.Leave(r.name, c.id)
		h.log.Debug("left room", "socket_id", c.id, "room", r.name)
	}
}

// forgetLocked marks c left, stops its timers, uncounts its socket and
// takes it out of its room, which is held for it if it was the talker on
// air. It returns that room (nil if none) and who must hear of it (see
// removeLocked). Hub.mu must be held.
func (h *Hub) forgetLocked(c *Client) (*room, []*Client) {
	c.left.Store(true)
	c.idle.Stop()
	if c.expiry != nil {
		c.expiry.Stop()
	}
	delete(h.clients, c.id)
	h.uncountAddrLocked(c)
	r := c.room.Load()
	if r == nil {
		return nil, nil
	}
	if r.talker.Load() == c {
		h.reserveLocked(r.name, c)
	}
	return r, h.removeLocked(r, c)
}

// uncountAddrLocked takes c out of its address's count of sockets, once.
// Hub.mu must be held.
func (h *Hub) uncountAddrLocked(c *Client) {
	if c.addr == "" || c.addrUncounted {
		return
	}
	c.addrUncounted = true
	if h.perAddr[c.addr]--; h.perAddr[c.addr] <= 0 {
		delete(h.perAddr, c.addr)
	}
}

// evict drops a client whose queue overflowed, whose connection failed, or
// who abused its rate limit: it leaves the hub (so the room hears of it at
// once) and its connection is closed.
func (c *Client) evict(reason error) {
	if c.left.Load() {
		return
	}
	defer func() {
		if v := recover(); v != nil {
			c.hub.log.Error("evicting client failed", "socket_id", c.id, "err", recovered(v).Error())
		}
	}()
	c.hub.log.Info("evicting client", "socket_id", c.id, "room", c.Room(), "reason", reason.Error())
	c.hub.opts.Observer.Evicted(evictionReason(reason))
	c.Leave()
	_ = c.sink.Close()
}

// Error sends the client a `signaling_error` event {code, message} for err.
func (c *Client) Error(err error) {
	c.out.push(errorFrame(err))
}

func errorFrame(err error) *Frame {
	data, _ := json.Marshal(protocol.SignalingError{Code: Code(err), Message: err.Error()})
	return NewFrame(protocol.EventError, data)
}

// Refuse tells a connection that was not let in why, then closes it. It
// returns at once; the writing happens on its own goroutine.
func Refuse(sink Sink, err error) {
	go func() {
		defer func() { _ = recover() }() // the socket is being dropped anyway
		_ = sink.WriteFrames([]*Frame{errorFrame(err)})
		_ = sink.Close()
	}()
}
