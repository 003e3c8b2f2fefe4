package signaling

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"github.com/broadcast-service/broadcast/protocol"
)

// DefaultQueueBytes is the default limit of a client's outbound queue, in
// bytes: room for a few hundred SDP offers and ICE candidates.
const DefaultQueueBytes = 1 << 20

// Options configure a Hub. The zero value is an open hub with default
// limits.
type Options struct {
	// QueueBytes bounds each client's outbound queue, in bytes. A client
	// whose queue would exceed it is evicted. Zero means DefaultQueueBytes.
	QueueBytes int
	// Keys, if set, makes the hub keyed: a talker needs its room's talk key.
	// Without it rooms are open: the first talker holds a room until it
	// leaves.
	Keys *Keys
	// PrivateRooms, with Keys, makes every room need a watch key.
	PrivateRooms bool
	// Limits bound sizes, rates and socket counts.
	Limits Limits
	// ICEServers returns the ICE servers for a socket, sent in `entered`.
	ICEServers func(socketID string) []protocol.ICEServer
	// Observer is told of routed messages, refusals, evictions and viewer
	// quality reports, for metrics; nil tells nobody.
	Observer Observer
	// Cluster, if set, spans rooms across nodes: room limits, talkers and
	// routing then hold for members connected to other nodes.
	Cluster Cluster
	// Logger receives join, leave, refusal and eviction records.
	Logger *slog.Logger
	// Now is the clock for key expiry; nil means time.Now.
	Now func() time.Time
}

// Hub is the room registry and router. It knows nothing of the transport:
// a transport calls Connect for each new connection and drives the returned
// Client. Routing never holds a lock while writing to a client, and a slow
// client never delays another (see Sink).
//
// Each room has at most one talker. The talker's messages reach every
// member (or its `sendto`); a watcher's reach only the talker, and its id
// and departure are told to the talker alone.
type Hub struct {
	opts Options
	now  nowFunc
	log  *slog.Logger

	mu       sync.RWMutex // guards clients, rooms, perAddr, closed and every room's members and talker
	clients  map[string]*Client
	rooms    map[string]*room
	perAddr  map[string]int
	reserved map[string]reservation // open rooms held for a lost talker
	closed   bool
}

type room struct {
	name string
	// members and talker are replaced, never modified, under Hub.mu, so
	// routing reads them without a lock.
	members atomic.Pointer[[]*Client]
	talker  atomic.Pointer[Client]
}

// NewHub returns an empty hub.
func NewHub(opts Options) *Hub {
	if opts.QueueBytes <= 0 {
		opts.QueueBytes = DefaultQueueBytes
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	opts.Limits = opts.Limits.withDefaults()
	if opts.Observer == nil {
		opts.Observer = noObserver{}
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	return &Hub{
		opts:     opts,
		now:      now,
		log:      opts.Logger,
		clients:  make(map[string]*Client),
		rooms:    make(map[string]*room),
		perAddr:  make(map[string]int),
		reserved: make(map[string]reservation),
	}
}

// Client is one connected socket as the hub sees it.
type Client struct {
	id      string
	addr    string
	from    []byte // `"from":"<id>"`, spliced into routed messages
	hub     *Hub
	out     *outbox
	sink    Sink
	limiter *rate.Limiter // messages
	enters  *rate.Limiter

	idle     *time.Timer          // while outside a room; see Limits.EnterTimeout
	expiry   *time.Timer          // until the watch key expires; guarded by Hub.mu
	room     atomic.Pointer[room] // written under Hub.mu
	talker   atomic.Bool          // the talker of its room; written under Hub.mu
	classic  atomic.Bool          // entered with a plain room name: may claim the talker role
	onAir    atomic.Bool          // its room's talker, between talk_ready and end_talk
	retake   string               // the talker's retake token in an open hub; guarded by Hub.mu
	left     atomic.Bool          // set once, under Hub.mu
	refusals atomic.Int32         // rate refusals in a row
}

// Connect registers a client with a unique id (the transport's socket id),
// its remote address (for the per-address limit; may be "") and the sink
// its frames go to. It returns ErrTooManySockets over the socket limits,
// ErrDuplicateID if id is taken, and ErrClosed once the hub is closing.
func (h *Hub) Connect(id, addr string, sink Sink) (*Client, error) {
	from, err := json.Marshal(id)
	if err != nil {
		return nil, fmt.Errorf("client id %q: %w", id, err)
	}
	lim := h.opts.Limits
	c := &Client{
		id: id, addr: addr, hub: h, sink: sink,
		from:    append([]byte(`"from":`), from...),
		limiter: rate.NewLimiter(rate.Limit(lim.MessagesPerSecond), lim.MessageBurst),
		enters:  rate.NewLimiter(rate.Limit(lim.EntersPerSecond), lim.EnterBurst),
	}
	c.out = newOutbox(sink, h.opts.QueueBytes, shares{perOrigin: lim.WatcherQueueBytes, total: h.opts.QueueBytes / 2}, c.evict)

	h.mu.Lock()
	defer h.mu.Unlock()
	switch {
	case h.closed:
		return nil, fmt.Errorf("server shutting down: %w", ErrClosed)
	case len(h.clients) >= lim.Sockets:
		return nil, fmt.Errorf("%w: the server has %d", ErrTooManySockets, lim.Sockets)
	case addr != "" && h.perAddr[addr] >= lim.AddrSockets:
		return nil, fmt.Errorf("%w: %d from your address", ErrTooManySockets, lim.AddrSockets)
	}
	if _, ok := h.clients[id]; ok {
		return nil, fmt.Errorf("client id %q: %w", id, ErrDuplicateID)
	}
	h.clients[id] = c
	if addr != "" {
		h.perAddr[addr]++
	}
	c.idle = time.AfterFunc(lim.EnterTimeout, c.enterTimedOut)
	return c, nil
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

// checkKey verifies the key of an enter request, as the hub's mode wants,
// and returns when a watch key expires (zero for no expiry).
func (h *Hub) checkKey(req protocol.EnterRequest) (time.Time, error) {
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

// Enter puts the client in a room with a role, leaving the room it was in
// (whose members are told `user disconnected` as routing allows), and sends
// it `entered`. It returns ErrBadRoom for a name ValidRoomName refuses,
// ErrBadKey or ErrExpired for a key that does not do, ErrRoomTaken for a
// second talker, ErrRoomFull over the room's socket limit, ErrRateLimited
// over the socket's enter rate (Limits.EntersPerSecond), and ErrClosed
// after Leave. A watcher that entered with a watch key is dropped with
// ErrExpired when the key expires.
func (c *Client) Enter(req protocol.EnterRequest) (err error) {
	h := c.hub
	if err := c.allow(c.enters, "enters", h.opts.Limits.EntersPerSecond); err != nil {
		return err
	}
	if c.room.Load() == nil { // an attempt buys a socket outside a room more time
		c.idle.Reset(h.opts.Limits.EnterTimeout)
	}
	if err := ValidRoomName(req.Room); err != nil {
		return err
	}
	expires, err := h.checkKey(req)
	if err != nil {
		return err
	}
	defer func() {
		if err == nil {
			c.classic.Store(req.Role == protocol.RoleClassic)
			c.expireAt(req.Room, expires)
		}
	}()
	talker := req.Role == protocol.RoleTalker
	cl := h.opts.Cluster
	if cl == nil || c.inRoomAs(req.Room, talker) {
		_, err := c.enter(req.Room, talker, req.Retake)
		return err
	}
	// The cluster checks the room's limit and talker across nodes first;
	// what the local entry then refuses is undone there.
	if err := cl.Join(req.Room, c.id, talker, h.opts.Limits.RoomSockets); err != nil {
		return err
	}
	// The cluster's Join moved the socket out of the room it was in: once
	// refused here, it is put back as it still is here. A socket that left
	// meanwhile is never registered again.
	old, err := c.enter(req.Room, talker, req.Retake)
	now := c.Room()
	switch {
	case err != nil && now != "" && !errors.Is(err, ErrClosed):
		if jerr := cl.Join(now, c.id, c.IsTalker(), h.opts.Limits.RoomSockets+1); jerr != nil {
			h.Kick(c.id, jerr)
		}
		if now != req.Room {
			cl.Leave(req.Room, c.id)
		}
	case err != nil:
		cl.Leave(req.Room, c.id)
	case old != "" && old != req.Room:
		cl.Leave(old, c.id)
	}
	if c.left.Load() { // it left while the cluster was asked: take it out
		if now != "" && now != req.Room {
			cl.Leave(now, c.id)
		}
		cl.Leave(req.Room, c.id)
	}
	return err
}

// inRoomAs reports whether the client is already in room with the role.
func (c *Client) inRoomAs(room string, talker bool) bool {
	r := c.room.Load()
	return r != nil && r.name == room && c.talker.Load() == talker
}

// enter makes the client a member of room, the talker if talker, here on
// this node, and returns the name of the room it left ("" if none).
func (c *Client) enter(name string, talker bool, retake string) (string, error) {
	h := c.hub
	h.mu.Lock()
	if c.left.Load() {
		h.mu.Unlock()
		return "", ErrClosed
	}
	old := c.room.Load()
	oldName := ""
	if old != nil {
		oldName = old.name
	}
	if old != nil && old.name == name && c.talker.Load() == talker {
		h.mu.Unlock()
		c.sendEntered(name)
		return oldName, nil
	}
	r := h.rooms[name]
	if r != nil && r != old {
		if n := len(*r.members.Load()); n >= h.opts.Limits.RoomSockets {
			h.mu.Unlock()
			return "", fmt.Errorf("%w: %d sockets", ErrRoomFull, n)
		}
	}
	if talker && r != nil {
		if t := r.talker.Load(); t != nil && t != c {
			h.mu.Unlock()
			return "", ErrRoomTaken
		}
	}
	if talker && h.reservedLocked(name, retake) {
		h.mu.Unlock()
		return "", fmt.Errorf("%w: held for its talker's return", ErrRoomTaken)
	}
	var notify []*Client
	if old != nil {
		notify = h.removeLocked(old, c)
	}
	r = h.rooms[name] // removeLocked may have dropped an emptied room
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
	h.mu.Unlock()

	if old != nil {
		sendDisconnected(c.id, notify)
	}
	h.log.Debug("entered room", "socket_id", c.id, "room", name, "talker", talker)
	c.sendEntered(name)
	return oldName, nil
}

func (c *Client) sendEntered(room string) {
	role := protocol.RoleWatcher
	if c.talker.Load() {
		role = protocol.RoleTalker
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
	c.left.Store(true)
	c.idle.Stop()
	if c.expiry != nil {
		c.expiry.Stop()
	}
	delete(h.clients, c.id)
	if c.addr != "" {
		if h.perAddr[c.addr]--; h.perAddr[c.addr] <= 0 {
			delete(h.perAddr, c.addr)
		}
	}
	r := c.room.Load()
	var notify []*Client
	if r != nil {
		if r.talker.Load() == c {
			h.reserveLocked(r.name, c)
		}
		notify = h.removeLocked(r, c)
	}
	h.mu.Unlock()

	c.out.close()
	sendDisconnected(c.id, notify)
	if r != nil {
		if cl := h.opts.Cluster; cl != nil {
			cl.Leave(r.name, c.id)
		}
		h.log.Debug("left room", "socket_id", c.id, "room", r.name)
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

// Message routes one `message` from the client, stamping `from` with the
// client's id. The talker's message goes to its `sendto`, which must be a
// member of the room, or else to every other member; a watcher's goes to
// the talker alone (a `sendto` must name the talker). In an open hub a
// classic client becomes the talker by sending a room's first talk_ready.
//
// It returns ErrTooLarge, ErrRateLimited, ErrNotInRoom, ErrBadMessage,
// ErrUnknownType, ErrNotTalker for a talker's type from anyone else, and
// ErrUnknownRecipient for a `sendto` the sender may not reach.
func (c *Client) Message(raw []byte) error {
	h := c.hub
	if len(raw) > h.opts.Limits.MessageBytes {
		return fmt.Errorf("%w: %d bytes, the limit is %d", ErrTooLarge, len(raw), h.opts.Limits.MessageBytes)
	}
	if err := c.allow(c.limiter, "messages", h.opts.Limits.MessagesPerSecond); err != nil {
		return err
	}
	r := c.room.Load()
	if r == nil || c.left.Load() {
		return ErrNotInRoom
	}
	m, err := parseMessage(raw)
	if err != nil {
		return err
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
	switch m.typ { // a talker lost on air has its room held (protocol.RetakeWindow)
	case protocol.TypeTalkReady:
		c.onAir.Store(true)
	case protocol.TypeEndTalk:
		c.onAir.Store(false)
	}
	cl := h.opts.Cluster
	if m.sendto != "" {
		h.mu.RLock()
		to := h.clients[m.sendto]
		h.mu.RUnlock()
		data := m.stamp(c.from)
		switch {
		case to != nil && to != c && to.room.Load() == r:
			to.out.push(NewFrame(protocol.EventMessage, data))
		case to == nil && cl != nil && cl.Member(r.name, m.sendto):
			cl.Send(r.name, m.sendto, data)
		default:
			return fmt.Errorf("sendto %.40q: %w", m.sendto, ErrUnknownRecipient)
		}
		h.opts.Observer.Routed(m.typ, len(data), 1)
		return nil
	}
	members := *r.members.Load()
	var data json.RawMessage
	remote := 0
	if cl != nil {
		data = m.stamp(c.from)
		remote = cl.Broadcast(r.name, data)
	}
	if len(members) >= 2 {
		if data == nil {
			data = m.stamp(c.from)
		}
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
	return nil
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

// toTalker routes a watcher's message to the room's talker alone: talker,
// if it is on this node, or else the talker the cluster knows. It returns
// ErrTooLarge over the watchers' size caps and ErrTalkerBusy past the
// watcher's share of the talker's queue.
func (c *Client) toTalker(r *room, talker *Client, m message) error {
	h := c.hub
	lim := h.opts.Limits
	switch {
	case len(m.raw) > lim.WatcherMessageBytes:
		return fmt.Errorf("%w: %d bytes, the limit for a watcher is %d", ErrTooLarge, len(m.raw), lim.WatcherMessageBytes)
	case m.typ == protocol.TypeStats && len(m.raw) > lim.StatsBytes:
		return fmt.Errorf("%w: %d bytes, the limit for stats is %d", ErrTooLarge, len(m.raw), lim.StatsBytes)
	}
	remote := ""
	if talker == nil && h.opts.Cluster != nil {
		remote, _ = h.opts.Cluster.Talker(r.name)
	}
	switch {
	case talker != nil && (m.sendto == "" || m.sendto == talker.id):
		data := m.stamp(c.from)
		if err := talker.out.offer(NewFrame(protocol.EventMessage, data), c.id); err != nil {
			if errors.Is(err, ErrClosed) {
				return nil // the talker is leaving; the watcher hears of it
			}
			return err
		}
		h.opts.Observer.Routed(m.typ, len(data), 1)
	case remote != "" && (m.sendto == "" || m.sendto == remote):
		data := m.stamp(c.from)
		h.opts.Cluster.Send(r.name, remote, data)
		h.opts.Observer.Routed(m.typ, len(data), 1)
	case m.sendto != "":
		return fmt.Errorf("sendto %.40q: %w", m.sendto, ErrUnknownRecipient)
	default:
		return nil // no talker yet: nobody to hear it, as in the classic server
	}
	if m.typ == protocol.TypeStats {
		h.opts.Observer.ViewerReport(parseReport(m.raw))
	}
	return nil
}

// Refused tells the hub's Observer that an event was refused with err.
func (h *Hub) Refused(err error) { h.opts.Observer.Refused(Code(err)) }

// RoomStats is one room's size.
type RoomStats struct {
	Name    string
	Members int
	Talker  bool
}

// Rooms returns every room's size, in no order.
func (h *Hub) Rooms() []RoomStats {
	h.mu.RLock()
	defer h.mu.RUnlock()
	out := make([]RoomStats, 0, len(h.rooms))
	for _, r := range h.rooms {
		out = append(out, RoomStats{Name: r.name, Members: len(*r.members.Load()), Talker: r.talker.Load() != nil})
	}
	return out
}

// claimTalker makes a classic client the talker of a room without one, in
// an open hub, on its first talk_ready.
func (c *Client) claimTalker(r *room, typ string) bool {
	h := c.hub
	if typ != protocol.TypeTalkReady || h.opts.Keys != nil || !c.classic.Load() {
		return false
	}
	if cl := h.opts.Cluster; cl != nil {
		if _, ok := cl.Talker(r.name); ok || cl.ClaimTalker(r.name, c.id) != nil {
			return false
		}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if c.left.Load() || c.room.Load() != r || r.talker.Load() != nil || h.reservedLocked(r.name, "") {
		return false
	}
	r.talker.Store(c)
	c.talker.Store(true)
	h.log.Debug("classic client claimed the talker role", "socket_id", c.id, "room", r.name)
	return true
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

// Stats is a snapshot of the hub's size.
type Stats struct {
	Clients int // connected clients, in or out of a room
	Rooms   int // rooms with at least one member
	Talkers int // rooms with a talker
}

// Stats returns the hub's current size.
func (h *Hub) Stats() Stats {
	h.mu.RLock()
	defer h.mu.RUnlock()
	st := Stats{Clients: len(h.clients), Rooms: len(h.rooms)}
	for _, r := range h.rooms {
		if r.talker.Load() != nil {
			st.Talkers++
		}
	}
	return st
}

// Members returns the ids of the room's members in join order, or nil if
// the room is empty.
func (h *Hub) Members(name string) []string {
	h.mu.RLock()
	r := h.rooms[name]
	h.mu.RUnlock()
	if r == nil {
		return nil
	}
	members := *r.members.Load()
	ids := make([]string, len(members))
	for i, m := range members {
		ids[i] = m.id
	}
	return ids
}

// Close refuses new clients from now on, evicts every client, closing their
// connections, and returns when done or when ctx ends.
func (h *Hub) Close(ctx context.Context) error {
	h.mu.Lock()
	h.closed = true
	all := make([]*Client, 0, len(h.clients))
	for _, c := range h.clients {
		all = append(all, c)
	}
	h.mu.Unlock()
	for _, c := range all {
		if err := ctx.Err(); err != nil {
			return err
		}
		c.Leave()
		_ = c.sink.Close()
	}
	return nil
}
