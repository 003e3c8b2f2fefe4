package cluster

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/broadcast-service/broadcast/signaling"
)

// DefaultTTL is how long a node that stops renewing its liveness key is
// still counted alive. Its sockets are announced gone within DefaultTTL
// plus one check interval (DefaultTTL/beatsPerTTL): 6 s.
const DefaultTTL = 5 * time.Second

// beatsPerTTL is how many heartbeats, each also a check for dead nodes, a
// node runs per TTL: a node is counted dead only after missing that many.
const beatsPerTTL = 5

// DefaultPrefix is put before every key and channel when Options.Prefix is
// "".
const DefaultPrefix = "broadcast:"

// opTimeout bounds each round trip to Redis.
const opTimeout = time.Second

// joinTimeout bounds a Join or ClaimTalker: its op waits for the ops
// queued before it, then makes its own round trip.
const joinTimeout = 2 * opTimeout

// longOpTimeout bounds an op of several round trips: registering every
// socket again, the farewell, an op run on its own.
const longOpTimeout = 5 * opTimeout

// redisRetries is how many times a command is retried on a fresh
// connection after its pooled one failed.
const redisRetries = 2

// opQueueLen is how many ops may wait for the worker; past it, ops that
// are not waited for are dropped (see enqueue).
const opQueueLen = 8192

// nodeIDBytes is the length of a node's random id, in bytes: 64 bits, 16
// hex characters in keys and channel names.
const nodeIDBytes = 8

// Options configure a Cluster.
type Options struct {
	// URL is the Redis URL, redis://[user:password@]host:port/db (or
	// rediss:// for TLS).
	URL string
	// TTL is the node liveness TTL (see DefaultTTL); zero means
	// DefaultTTL. Heartbeats and checks for dead nodes run every
	// TTL/beatsPerTTL.
	TTL time.Duration
	// Prefix is put before every key and channel; "" means DefaultPrefix.
	Prefix string
	// Logger receives Redis state changes and dead nodes.
	Logger *slog.Logger
	// OnState, if set, is called with true when the node (re)joins the
	// cluster and false when Redis becomes unreachable.
	OnState func(up bool)
}

// Local is the hub a Cluster serves: *signaling.Hub.
type Local interface {
	Deliver(room, to string, data []byte)
	Departed(room, id string, talker bool)
	Kick(id string, err error)
}

// Cluster is a signaling.Cluster over Redis.
type Cluster struct {
	opts  Options
	k     keys
	node  string
	log   *slog.Logger
	rdb   *redis.Client
	ps    *redis.PubSub
	local Local

	ops      chan *op
	subsKick chan struct{} // a pass of subscriptions is due
	subsStop chan struct{} // closed by Close
	up       atomic.Bool
	dirty    atomic.Bool  // a write failed: reconcile at the next heartbeat
	state    atomic.Int32 // a lifecycle; see advance
	nodes    atomic.Int64
	dropped  atomic.Uint64
	cancel   context.CancelFunc
	wg       sync.WaitGroup

	// Only the worker touches streams and lastStream, only the receiver
	// heard.
	streams    map[string]*stream
	lastStream uint64
	heard      map[string]map[string]*heard

	mu       sync.Mutex      // guards mine, views, suspects, pongs, pings and fresh
	fresh    map[string]bool // channels being subscribed anew
	pongs    map[string]chan struct{}
	pings    int
	mine     map[string]*member
	views    map[string]*view
	suspects []suspect
}

// member is one of this node's sockets as told to Redis.
type member struct {
	room    string
	talker  bool
	pending bool // its join is queued
}

var _ signaling.Cluster = (*Cluster)(nil)

// New returns a Cluster for the Redis at opts.URL; it does not connect
// until Start. It returns ErrBadURL for a URL that does not parse.
func New(opts Options) (*Cluster, error) {
	ropts, err := redis.ParseURL(opts.URL)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // without the URL, which may hold a password
		}
		return nil, fmt.Errorf("%w: %w", ErrBadURL, err)
	}
	ropts.DialTimeout = opTimeout
	ropts.ReadTimeout = opTimeout
	ropts.WriteTimeout = opTimeout
	// A pooled connection that died with a restarted Redis fails once:
	// retried on a fresh one. One worker waits for each batch, so a retry
	// cannot reorder a node's writes.
	ropts.MaxRetries = redisRetries
	ropts.DisableIdentity = true
	if opts.TTL <= 0 {
		opts.TTL = DefaultTTL
	}
	if opts.Prefix == "" {
		opts.Prefix = DefaultPrefix
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	id := make([]byte, nodeIDBytes)
	_, _ = rand.Read(id)
	node := hex.EncodeToString(id)
	return &Cluster{
		opts:     opts,
		k:        keys{opts.Prefix},
		node:     node,
		log:      opts.Logger.With("node", node),
		rdb:      redis.NewClient(ropts),
		ops:      make(chan *op, opQueueLen),
		subsKick: make(chan struct{}, 1),
		subsStop: make(chan struct{}),
		mine:     map[string]*member{},
		pongs:    map[string]chan struct{}{},
		views:    map[string]*view{},
		streams:  map[string]*stream{},
		heard:    map[string]map[string]*heard{},
		fresh:    map[string]bool{},
	}, nil
}

// Up reports whether Redis is reachable and this node is part of the
// cluster.
func (c *Cluster) Up() bool { return c.up.Load() }

// Nodes returns how many live nodes this node last counted, itself
// included.
func (c *Cluster) Nodes() int { return int(c.nodes.Load()) }

// Dropped returns how many messages for other nodes were dropped because
// Redis was unreachable or behind, plus how many messages from other nodes
// this node missed (its subscription dropped or reconnected): a message
// may be counted on both sides.
func (c *Cluster) Dropped() uint64 { return c.dropped.Load() }

// Start connects the cluster to local and runs it until Close: it
// subscribes to its node's channel, registers the node (if Redis can be
// reached now; else it keeps trying) and starts its heartbeat.
func (c *Cluster) Start(local Local) {
	c.local = local
	ctx, cancel := context.WithCancel(context.Background())
	c.cancel = cancel
	c.ps = c.rdb.Subscribe(ctx) // connects lazily
	c.wg.Add(1)
	go c.work()
	c.wg.Add(1)
	go c.subscriptions()
	sctx, scancel := context.WithTimeout(ctx, opTimeout)
	_ = c.ps.Subscribe(sctx, c.k.nodeChannel(c.node)) // kept for reconnections even if Redis is down now
	scancel()
	c.wg.Add(1)
	go c.receive(ctx)
	c.beat(ctx, true)
	c.wg.Add(1)
	go c.live(ctx)
}

// Close tells the other nodes this node is gone (its sockets that are
// still registered are announced as departed), then disconnects. Close
// the hub first, so its sockets leave in order.
func (c *Cluster) Close(ctx context.Context) error { return c.stop(ctx, true) }

// stop stops the cluster once; with farewell, it first unregisters the
// node.
func (c *Cluster) stop(ctx context.Context, farewell bool) error {
	if !c.advance(open, closing) {
		return nil
	}
	if c.cancel == nil {
		return c.rdb.Close()
	}
	c.cancel() // stops the heartbeat and the receiver
	_, err := c.do(ctx, c.lastOp(farewell))
	c.advance(closing, closed)
	close(c.subsStop)
	_ = c.ps.Close()
	done := make(chan struct{})
	go func() { c.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		err = ctx.Err()
	}
	c.setDown(nil)
	return errors.Join(err, c.rdb.Close())
}

// lastOp is the op the worker runs last: with farewell, it unregisters
// the node and its sockets, announcing them departed.
func (c *Cluster) lastOp(farewell bool) *op {
	return &op{last: true, fn: func(ctx context.Context) error {
		if !farewell {
			return nil
		}
		_, err := reapScript.Run(ctx, c.rdb, []string{c.k.nodes(), c.k.sockets(c.node)}, c.node, c.opts.Prefix).Result()
		_ = c.rdb.Del(ctx, c.k.alive(c.node)).Err()
		return err
	}}
}

// setUp marks the node part of the cluster.
func (c *Cluster) setUp() {
	if !c.up.Swap(true) {
		c.log.Info("redis reachable: rooms span nodes")
		if c.opts.OnState != nil {
			c.opts.OnState(true)
		}
	}
}

// setDown marks Redis unreachable (err is why; nil when closing).
func (c *Cluster) setDown(err error) {
	if c.up.Swap(false) && err != nil {
		c.log.Warn("redis unreachable: serving this node's sockets only", "err", err.Error())
		if c.opts.OnState != nil {
			c.opts.OnState(false)
		}
	}
}

// Join implements signaling.Cluster. When Redis is unreachable it lets
// the socket in, and registers it once Redis is back.
func (c *Cluster) Join(room, id string, talker bool, limit int) error {
	prev, ready := c.joinView(room, id, talker)
	if !c.up.Load() {
		c.settle(id, room)
		return nil
	}
	wait := time.NewTimer(opTimeout)
	select {
	case <-ready:
	case <-wait.C: // go on: a snapshot follows the late subscription
	}
	wait.Stop()
	ctx, cancel := context.WithTimeout(context.Background(), joinTimeout)
	defer cancel()
	reply, err := c.do(ctx, &op{script: joinScript, keys: c.memberKeys(room),
		args: []any{id, c.node, flag(talker), limit, "0", room, c.opts.Prefix}})
	if err != nil {
		// Redis went away or is slow: let it in; the next heartbeat
		// registers it.
		c.dirty.Store(true)
		c.settle(id, room)
		return nil
	}
	return c.joined(room, id, prev, limit, reply)
}

// joinView records id, pending, as this node's member of room, the talker
// if talker, in the room's view (made, and subscribed to, if new). It
// returns what id was before (nil if nothing) and the view's ready
// channel, closed once the room's channel is subscribed.
func (c *Cluster) joinView(room, id string, talker bool) (prev *member, ready <-chan struct{}) {
	c.mu.Lock()
	prev = c.mine[id]
	c.mine[id] = &member{room: room, talker: talker, pending: true}
	v := c.views[room]
	fresh := v == nil
	if fresh {
		v = newView()
		c.views[room] = v
	}
	v.local[id] = true
	ready = v.ready
	c.mu.Unlock()
	if fresh {
		c.resubscribe()
	}
	return prev, ready
}

// joined reads joinScript's reply to id's join of room: "ok" and the
// room's snapshot, or "full" or "taken", which undo the join and return
// signaling.ErrRoomFull (at limit) or signaling.ErrRoomTaken.
func (c *Cluster) joined(room, id string, prev *member, limit int, reply any) error {
	list, _ := reply.([]any)
	status := ""
	if len(list) > 0 {
		status, _ = list[0].(string)
	}
	switch status {
	case "full":
		c.undo(id, room, prev)
		return fmt.Errorf("%w: %d sockets across nodes", signaling.ErrRoomFull, limit)
	case "taken":
		c.undo(id, room, prev)
		return signaling.ErrRoomTaken
	case "ok":
		if s, err := parseSnapshot(list[1:]); err == nil {
			c.replace(room, s, false)
		}
		c.settle(id, room)
		return nil
	default:
		c.undo(id, room, prev)
		return fmt.Errorf("join %v: %w", reply, ErrProtocol)
	}
}

func flag(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

// settle marks a join done.
func (c *Cluster) settle(id, room string) {
	c.mu.Lock()
	if m := c.mine[id]; m != nil && m.room == room {
		m.pending = false
	}
	c.mu.Unlock()
}

// undo forgets a refused join, restoring what id was before it.
func (c *Cluster) undo(id, room string, prev *member) {
	c.mu.Lock()
	if prev != nil {
		c.mine[id] = prev
	} else {
		delete(c.mine, id)
	}
	drop := (prev == nil || prev.room != room) && c.forgetLocked(room, id)
	c.mu.Unlock()
	if drop {
		c.resubscribe()
	}
}

// forgetLocked takes id out of its room's view, dropping the view of a
// room this node no longer has members in; it reports whether it did, so
// the room's channel is unsubscribed. c.mu must be held.
func (c *Cluster) forgetLocked(room, id string) bool {
	v := c.views[room]
	if v == nil {
		return false
	}
	delete(v.local, id)
	if len(v.local) > 0 {
		return false
	}
	delete(c.views, room)
	return true
}

// memberKeys are the KEYS of joinScript and leaveScript for room.
func (c *Cluster) memberKeys(room string) []string {
	return append(c.k.room(room), c.k.sockets(c.node), c.k.roomChannel(room))
}

// ClaimTalker implements signaling.Cluster.
func (c *Cluster) ClaimTalker(room, id string) error {
	c.mu.Lock()
	m := c.mine[id]
	if m != nil {
		m.talker = true
	}
	c.mu.Unlock()
	if !c.up.Load() {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), joinTimeout)
	defer cancel()
	keys := append(c.k.room(room), c.k.roomChannel(room))
	reply, err := c.do(ctx, &op{script: claimScript, keys: keys, args: []any{id, c.node, c.opts.Prefix}})
	if err != nil {
		c.dirty.Store(true) // registered as talker by the next heartbeat
	}
	if err != nil || reply != "taken" {
		return nil
	}
	c.mu.Lock()
	if m != nil {
		m.talker = false
	}
	c.mu.Unlock()
	return signaling.ErrRoomTaken
}

// Leave implements signaling.Cluster; it does not wait for Redis.
func (c *Cluster) Leave(room, id string) {
	c.mu.Lock()
	if m := c.mine[id]; m != nil && m.room == room {
		delete(c.mine, id)
	}
	drop := c.forgetLocked(room, id)
	c.mu.Unlock()
	if drop {
		c.resubscribe()
	}
	c.enqueue(&op{script: leaveScript, keys: c.memberKeys(room), args: []any{id, c.node, room, c.opts.Prefix}})
}

// Talker implements signaling.Cluster.
func (c *Cluster) Talker(room string) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v := c.views[room]
	if v == nil || v.talker == "" || v.members[v.talker] == c.node {
		return "", false
	}
	return v.talker, true
}

// Member implements signaling.Cluster.
func (c *Cluster) Member(room, id string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	v := c.views[room]
	if v == nil {
		return false
	}
	node, ok := v.members[id]
	return ok && node != c.node
}

// Broadcast implements signaling.Cluster: one publish on the room's
// channel, whatever the number of nodes. It publishes even when this node
// knows of no member elsewhere, since one may have joined a moment ago.
func (c *Cluster) Broadcast(room string, data []byte) int {
	c.mu.Lock()
	v := c.views[room]
	n := 0
	if v != nil {
		n = v.remote
	}
	c.mu.Unlock()
	if v == nil {
		return 0
	}
	if !c.up.Load() {
		if n > 0 {
			c.dropped.Add(1) // the members elsewhere miss it
		}
		return 0
	}
	c.enqueue(&op{channel: c.k.roomChannel(room), payload: encodeMessage(c.node, room, "", data)})
	return n
}

// Send implements signaling.Cluster: one publish on the node channel of
// the recipient's node.
func (c *Cluster) Send(room, id string, data []byte) {
	c.mu.Lock()
	node := ""
	if v := c.views[room]; v != nil {
		node = v.members[id]
	}
	c.mu.Unlock()
	if node == "" || node == c.node {
		return
	}
	c.enqueue(&op{channel: c.k.nodeChannel(node), payload: encodeMessage(c.node, room, id, data)})
}

// replace takes a snapshot of room into its view and announces the
// departures it shows. A forced replace, after Redis came back, only
// suspects them: their nodes may not have registered again yet, so they
// are announced if still gone one TTL later (see settle).
func (c *Cluster) replace(room string, s snapshot, force bool) {
	c.mu.Lock()
	var gone []departure
	if v := c.views[room]; v != nil {
		gone = v.replace(room, s, c.node, force)
	}
	if force {
		at := time.Now().Add(c.opts.TTL)
		for _, d := range gone {
			c.suspects = append(c.suspects, suspect{d, at})
		}
		gone = nil
	}
	c.mu.Unlock()
	for _, d := range gone {
		c.local.Departed(d.room, d.id, d.talker)
	}
}

// suspect is a member missing after Redis came back.
type suspect struct {
	departure
	at time.Time
}

// settleSuspects announces the suspects still missing once due.
func (c *Cluster) settleSuspects(now time.Time) {
	c.mu.Lock()
	var gone []departure
	rest := c.suspects[:0]
	for _, s := range c.suspects {
		if now.Before(s.at) {
			rest = append(rest, s)
			continue
		}
		v := c.views[s.room]
		if v == nil {
			continue
		}
		if _, ok := v.members[s.id]; !ok || (s.talker && v.talker != s.id) {
			gone = append(gone, s.departure)
		}
	}
	c.suspects = rest
	c.mu.Unlock()
	for _, d := range gone {
		c.local.Departed(d.room, d.id, d.talker)
	}
}
