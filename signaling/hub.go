package signaling

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
)

// DefaultQueueBytes is the default limit of a client's outbound queue, in
// bytes: room for a few hundred SDP offers and ICE candidates.
const DefaultQueueBytes = 1 << 20

// Options configure a Hub. The zero value is usable.
type Options struct {
	// QueueBytes bounds each client's outbound queue, in bytes. A client
	// whose queue would exceed it is evicted. Zero means DefaultQueueBytes.
	QueueBytes int
	// Logger receives join, leave and eviction records. Nil discards them.
	Logger *slog.Logger
}

// Hub is the room registry and router. It knows nothing of the transport:
// a transport calls Connect for each new connection and drives the returned
// Client. Routing never holds a lock while writing to a client, and a slow
// client never delays another (see Sink).
type Hub struct {
	queueBytes int
	log        *slog.Logger

	mu      sync.RWMutex // guards clients, rooms and every room's members
	clients map[string]*Client
	rooms   map[string]*room
}

type room struct {
	name string
	// members is replaced, never modified, under Hub.mu, so routing reads
	// it without a lock.
	members atomic.Pointer[[]*Client]
}

// NewHub returns an empty hub.
func NewHub(opts Options) *Hub {
	if opts.QueueBytes <= 0 {
		opts.QueueBytes = DefaultQueueBytes
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Hub{
		queueBytes: opts.QueueBytes,
		log:        opts.Logger,
		clients:    make(map[string]*Client),
		rooms:      make(map[string]*room),
	}
}

// Client is one connected socket as the hub sees it.
type Client struct {
	id   string
	from []byte // `"from":"<id>"`, spliced into routed messages
	hub  *Hub
	out  *outbox
	sink Sink

	room atomic.Pointer[room] // written under Hub.mu
	left atomic.Bool          // set once, under Hub.mu
}

// Connect registers a client with a unique id (the transport's socket id)
// and the sink its frames go to. It returns ErrDuplicateID if id is taken.
func (h *Hub) Connect(id string, sink Sink) (*Client, error) {
	from, err := json.Marshal(id)
	if err != nil {
		return nil, fmt.Errorf("client id %q: %w", id, err)
	}
	c := &Client{id: id, from: append([]byte(`"from":`), from...), hub: h, sink: sink}
	c.out = newOutbox(sink, h.queueBytes, c.evict)

	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.clients[id]; ok {
		return nil, fmt.Errorf("client id %q: %w", id, ErrDuplicateID)
	}
	h.clients[id] = c
	return c, nil
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

// Enter puts the client in the named room, leaving the room it was in (whose
// members are told `user disconnected`). It returns ErrBadRoom for a name
// ValidRoomName refuses and ErrClosed after Leave.
func (c *Client) Enter(name string) error {
	if err := ValidRoomName(name); err != nil {
		return err
	}
	h := c.hub
	h.mu.Lock()
	if c.left.Load() {
		h.mu.Unlock()
		return ErrClosed
	}
	old := c.room.Load()
	if old != nil && old.name == name {
		h.mu.Unlock()
		return nil
	}
	var notify []*Client
	if old != nil {
		notify = h.removeLocked(old, c)
	}
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
	h.mu.Unlock()

	if old != nil {
		c.sendDisconnected(notify)
		h.log.Debug("left room", "socket_id", c.id, "room", old.name)
	}
	h.log.Debug("entered room", "socket_id", c.id, "room", name)
	return nil
}

// removeLocked takes c out of r and returns the members left to notify.
// An emptied room is forgotten. Hub.mu must be held.
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
	return rest
}

func (c *Client) sendDisconnected(to []*Client) {
	if len(to) == 0 {
		return
	}
	data, _ := json.Marshal(struct {
		ID string `json:"id"`
	}{c.id})
	f := NewFrame(EventUserDisconnected, data)
	for _, m := range to {
		m.out.push(f)
	}
}

// Leave removes the client from the hub and tells the rest of its room
// `user disconnected` {id}. It is idempotent: the transport may call it
// more than once, and only the first call notifies.
func (c *Client) Leave() {
	h := c.hub
	h.mu.Lock()
	if c.left.Load() {
		h.mu.Unlock()
		return
	}
	c.left.Store(true)
	delete(h.clients, c.id)
	r := c.room.Load()
	var notify []*Client
	if r != nil {
		notify = h.removeLocked(r, c)
	}
	h.mu.Unlock()

	c.out.close()
	c.sendDisconnected(notify)
	if r != nil {
		h.log.Debug("left room", "socket_id", c.id, "room", r.name)
	}
}

// evict drops a client whose queue overflowed or whose connection failed:
// it leaves the hub (so the room hears of it at once) and its connection is
// closed.
func (c *Client) evict(reason error) {
	if c.left.Load() {
		return
	}
	c.hub.log.Info("evicting client", "socket_id", c.id, "room", c.Room(), "reason", reason.Error())
	c.Leave()
	_ = c.sink.Close()
}

// Message routes one `message` from the client: it stamps `from` with the
// client's id and delivers the message to `sendto` if that client is in
// the same room, else to every other member of the room. It returns
// ErrNotInRoom before Enter, ErrBadMessage for a malformed message and
// ErrUnknownRecipient when `sendto` names no member of the room.
func (c *Client) Message(raw []byte) error {
	r := c.room.Load()
	if r == nil || c.left.Load() {
		return ErrNotInRoom
	}
	m, err := parseMessage(raw)
	if err != nil {
		return err
	}
	if m.sendto != "" {
		c.hub.mu.RLock()
		to := c.hub.clients[m.sendto]
		c.hub.mu.RUnlock()
		if to == nil || to == c || to.room.Load() != r {
			return fmt.Errorf("sendto %q: %w", m.sendto, ErrUnknownRecipient)
		}
		to.out.push(NewFrame(EventMessage, m.stamp(c.from)))
		return nil
	}
	members := *r.members.Load()
	if len(members) < 2 {
		return nil
	}
	f := NewFrame(EventMessage, m.stamp(c.from))
	for _, to := range members {
		if to != c {
			to.out.push(f)
		}
	}
	return nil
}

// Error sends the client a `signaling_error` event {code, message} for err.
func (c *Client) Error(err error) {
	data, _ := json.Marshal(struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	}{Code(err), err.Error()})
	c.out.push(NewFrame(EventError, data))
}

// Stats is a snapshot of the hub's size.
type Stats struct {
	Clients int // connected clients, in or out of a room
	Rooms   int // rooms with at least one member
}

// Stats returns the hub's current size.
func (h *Hub) Stats() Stats {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return Stats{Clients: len(h.clients), Rooms: len(h.rooms)}
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

// Close evicts every client, closing their connections, and returns when
// done or when ctx ends.
func (h *Hub) Close(ctx context.Context) error {
	h.mu.RLock()
	all := make([]*Client, 0, len(h.clients))
	for _, c := range h.clients {
		all = append(all, c)
	}
	h.mu.RUnlock()
	for _, c := range all {
		if err := ctx.Err(); err != nil {
			return err
		}
		c.Leave()
		_ = c.sink.Close()
	}
	return nil
}
