package signaling

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/broadcast-service/broadcast/protocol"
)

// DefaultQueueBytes is the default limit of a client's outbound queue, in
// bytes: room for a few hundred SDP offers and ICE candidates.
const DefaultQueueBytes = 1 << 20

// watchersQueueFraction divides a client's outbound queue (QueueBytes) to
// give how many bytes of it all watchers' unread messages may fill
// together: 2, half, so what watchers send can never crowd out the hub's
// own traffic to the talker (see Limits.WatcherQueueBytes).
const watchersQueueFraction = 2

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
	// routing then hold for members connected to other nodes. Nil means
	// this node alone.
	Cluster Cluster
	// Logger receives join, leave, refusal and eviction records.
	Logger *slog.Logger
	// Now is the clock for key expiry; nil means time.Now.
	Now func() time.Time
	// Relay, if set, starts rooms' relays when RelayMode asks for them
	// (see RelayStarter). Nil means no relay is ever started, as RelayOff:
	// a relay that enters with RelaySecret is still routed as one.
	Relay RelayStarter
	// RelayMode is when watchers are handed to a room's relay; "" means
	// RelayAuto. It takes effect only with Relay.
	RelayMode RelayMode
	// RelaySecret is the key a socket entering as protocol.RoleRelay must
	// present; "" admits no relay. Never logged.
	RelaySecret string
	// RelayHold bounds how long a request is held for a relay that has
	// not entered its room yet; zero means DefaultRelayHold.
	RelayHold time.Duration
	// RelayHeld bounds how many requests one room may have held; zero
	// means DefaultRelayHeld. Past it, a request is delivered as without
	// a relay.
	RelayHeld int
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

	holds holds // requests held for relays not yet in their rooms
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
	if opts.Cluster == nil {
		opts.Cluster = singleNode{}
	}
	if opts.RelayMode == "" {
		opts.RelayMode = RelayAuto
	}
	if opts.RelayHold <= 0 {
		opts.RelayHold = DefaultRelayHold
	}
	if opts.RelayHeld <= 0 {
		opts.RelayHeld = DefaultRelayHeld
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

// Connect registers a client with a unique id (the transport's socket id),
// its remote address (for the per-address limit; may be "") and the sink
// its frames go to. It returns ErrTooManySockets over the socket limits,
// ErrDuplicateID if id is taken, and ErrClosed once the hub is closing.
func (h *Hub) Connect(id, addr string, sink Sink) (*Client, error) {
	c, err := h.newClient(id, addr, sink)
	if err != nil {
		return nil, err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if err := h.admitSocketLocked(id, addr); err != nil {
		return nil, err
	}
	h.clients[id] = c
	if addr != "" {
		h.perAddr[addr]++
	}
	c.idle = time.AfterFunc(h.opts.Limits.EnterTimeout, c.enterTimedOut)
	return c, nil
}

// newClient makes the client of socket id, from addr, writing to sink,
// with its rate limits and outbound queue.
func (h *Hub) newClient(id, addr string, sink Sink) (*Client, error) {
	from, err := json.Marshal(id)
	if err != nil {
		return nil, fmt.Errorf("client id %q: %w", id, err)
	}
	lim := h.opts.Limits
	c := &Client{
		id: id, addr: addr, hub: h, sink: sink,
		from:      append([]byte(`"from":`), from...),
		relayFrom: append([]byte(`"relay":true,"from":`), from...),
		limiter:   rate.NewLimiter(rate.Limit(lim.MessagesPerSecond), lim.MessageBurst),
		enters:    rate.NewLimiter(rate.Limit(lim.EntersPerSecond), lim.EnterBurst),
	}
	watchers := shares{perOrigin: lim.WatcherQueueBytes, total: h.opts.QueueBytes / watchersQueueFraction}
	c.out = newOutbox(sink, h.opts.QueueBytes, watchers, c.evict)
	return c, nil
}

// admitSocketLocked checks a new socket id from addr against the hub's state
// and socket limits. Hub.mu must be held.
func (h *Hub) admitSocketLocked(id, addr string) error {
	lim := h.opts.Limits
	switch {
	case h.closed:
		return fmt.Errorf("server shutting down: %w", ErrClosed)
	case len(h.clients) >= lim.Sockets:
		return fmt.Errorf("%w: the server has %d", ErrTooManySockets, lim.Sockets)
	case addr != "" && h.perAddr[addr] >= lim.AddrSockets:
		return fmt.Errorf("%w: %d from your address", ErrTooManySockets, lim.AddrSockets)
	}
	if _, ok := h.clients[id]; ok {
		return fmt.Errorf("client id %q: %w", id, ErrDuplicateID)
	}
	return nil
}

// Refused tells the hub's Observer that an event was refused with err.
func (h *Hub) Refused(err error) { h.opts.Observer.Refused(Code(err)) }

// RoomStats is one room's size: its members on this node, and whether its
// talker and its relay are among them.
type RoomStats struct {
	Name    string
	Members int
	Talker  bool
	Relay   bool
}

// Rooms returns every room's size, in no order.
func (h *Hub) Rooms() []RoomStats {
	h.mu.RLock()
	defer h.mu.RUnlock()
	out := make([]RoomStats, 0, len(h.rooms))
	for _, r := range h.rooms {
		out = append(out, RoomStats{Name: r.name, Members: len(*r.members.Load()), Talker: r.talker.Load() != nil, Relay: r.relay.Load() != nil})
	}
	return out
}

// OnAir reports whether room has a talker on air: here, since its
// talk_ready, or on another node of the Cluster.
func (h *Hub) OnAir(room string) bool {
	h.mu.RLock()
	r := h.rooms[room]
	h.mu.RUnlock()
	if r != nil {
		if t := r.talker.Load(); t != nil {
			return t.onAir.Load()
		}
	}
	_, ok := h.opts.Cluster.Talker(room)
	return ok
}

// Stats is a snapshot of the hub's size.
type Stats struct {
	Clients int // connected clients, in or out of a room
	Rooms   int // rooms with at least one member
	Talkers int // rooms with a talker
	OnAir   int // of them, those whose talker is on air (talk_ready, no end_talk since)
	Relays  int // rooms with a relay
}

// Stats returns the hub's current size.
func (h *Hub) Stats() Stats {
	h.mu.RLock()
	defer h.mu.RUnlock()
	st := Stats{Clients: len(h.clients), Rooms: len(h.rooms)}
	for _, r := range h.rooms {
		if t := r.talker.Load(); t != nil {
			st.Talkers++
			if t.onAir.Load() {
				st.OnAir++
			}
		}
		if r.relay.Load() != nil {
			st.Relays++
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
	h.holds.dropAll()
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
