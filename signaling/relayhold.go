package signaling

import (
	"errors"
	"sync"
	"time"

	"github.com/broadcast-service/broadcast/protocol"
)

// holds are the requests held for relays that have not entered their
// rooms yet, per room: each goes to the relay when it enters, or, held
// Options.RelayHold, is delivered as it would have been without a relay.
type holds struct {
	mu    sync.Mutex
	rooms map[string]*holding
}

// holding is one room's held requests, by watcher id: a watcher that asks
// again replaces its request. timer fires at the earliest deadline.
type holding struct {
	items map[string]*held
	timer *time.Timer
}

// held is one watcher's request for the relay: request is its talk_request
// (`from` stamped), deliver what to do instead once until passed.
type held struct {
	request []byte
	deliver func()
	until   time.Time
}

// hold holds watcher's request for room's relay until it enters, or
// until Options.RelayHold has passed, when deliver is called instead. It
// reports first if the room had nothing held (its relay is to be
// started), and ok false when the room already holds Options.RelayHeld.
func (hs *holds) hold(h *Hub, room, watcher string, request []byte, deliver func()) (first, ok bool) {
	hs.mu.Lock()
	defer hs.mu.Unlock()
	if hs.rooms == nil {
		hs.rooms = make(map[string]*holding)
	}
	g := hs.rooms[room]
	first = g == nil
	if first {
		g = &holding{items: make(map[string]*held)}
		g.timer = time.AfterFunc(h.opts.RelayHold, func() { hs.expire(room, g) })
		hs.rooms[room] = g
	}
	if _, again := g.items[watcher]; !again && len(g.items) >= h.opts.RelayHeld {
		return false, false
	}
	g.items[watcher] = &held{request: request, deliver: deliver, until: time.Now().Add(h.opts.RelayHold)}
	return first, true
}

// expire delivers room's requests held past their time, as they would
// have been without a relay, and waits again for the rest.
func (hs *holds) expire(room string, g *holding) {
	now := time.Now()
	var due []func()
	hs.mu.Lock()
	if hs.rooms[room] != g {
		hs.mu.Unlock()
		return // taken or dropped meanwhile
	}
	next := time.Time{}
	for id, it := range g.items {
		if !now.Before(it.until) {
			due = append(due, it.deliver)
			delete(g.items, id)
		} else if next.IsZero() || it.until.Before(next) {
			next = it.until
		}
	}
	if len(g.items) == 0 {
		delete(hs.rooms, room)
	} else {
		g.timer.Reset(next.Sub(now))
	}
	hs.mu.Unlock()
	for _, deliver := range due {
		deliver()
	}
}

// renew gives each of room's held requests Options.RelayHold from now:
// those held for a talker not on air yet, whose relay starts now.
func (hs *holds) renew(h *Hub, room string) {
	hs.mu.Lock()
	defer hs.mu.Unlock()
	g := hs.rooms[room]
	if g == nil {
		return
	}
	until := time.Now().Add(h.opts.RelayHold)
	for _, it := range g.items {
		it.until = until
	}
	g.timer.Reset(h.opts.RelayHold)
}

// take returns room's held requests and forgets them.
func (hs *holds) take(room string) map[string]*held {
	hs.mu.Lock()
	defer hs.mu.Unlock()
	g := hs.rooms[room]
	if g == nil {
		return nil
	}
	g.timer.Stop()
	delete(hs.rooms, room)
	return g.items
}

// drop forgets room's held requests, delivering none: its talker left.
func (hs *holds) drop(room string) { hs.take(room) }

// dropAll forgets every room's held requests: the hub is closing.
func (hs *holds) dropAll() {
	hs.mu.Lock()
	defer hs.mu.Unlock()
	for room, g := range hs.rooms {
		g.timer.Stop()
		delete(hs.rooms, room)
	}
}

// relayEntered hands relay, which just entered room r, the requests held
// for it, from watchers still in the room.
func (h *Hub) relayEntered(r *room, relay *Client) {
	for watcher, it := range h.holds.take(r.name) {
		if to, remote := h.reach(r, watcher); to == nil && !remote {
			continue // gone meanwhile
		}
		if err := relay.out.offer(NewFrame(protocol.EventMessage, it.request), watcher); err == nil {
			h.opts.Observer.Routed(protocol.TypeTalkRequest, len(it.request), 1)
		}
	}
}

// isClosed reports whether err is, or wraps, ErrClosed.
func isClosed(err error) bool { return errors.Is(err, ErrClosed) }
