package cluster

import (
	"context"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/broadcast-service/broadcast/signaling"
)

// reconcileEvery is how many heartbeats pass between checks that Redis
// holds exactly this node's sockets.
const reconcileEvery = 10

// live renews the node's liveness key every TTL/beatsPerTTL, frees dead nodes, and
// rejoins after Redis was unreachable, until ctx ends.
func (c *Cluster) live(ctx context.Context) {
	defer c.wg.Done()
	t := time.NewTicker(c.opts.TTL / beatsPerTTL)
	defer t.Stop()
	for n := 1; ; n++ {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		c.beat(ctx, n%reconcileEvery == 0)
		c.settleSuspects(time.Now())
	}
}

// beat is one heartbeat. A node that finds itself unregistered (Redis
// restarted, or the others took it for dead) or that was cut off
// registers again with all its sockets; one whose writes failed (or every
// reconcileEvery beats) checks that Redis holds its sockets.
func (c *Cluster) beat(parent context.Context, check bool) {
	ctx, cancel := context.WithTimeout(parent, opTimeout)
	registered, err := heartbeatScript.Run(ctx, c.rdb, []string{c.k.alive(c.node), c.k.nodes()},
		c.opts.TTL.Milliseconds(), c.node).Int()
	cancel()
	if err != nil {
		c.setDown(err)
		return
	}
	// Registering every socket again may take longer than one round trip.
	ctx, cancel = context.WithTimeout(parent, longOpTimeout)
	defer cancel()
	if dirty := c.dirty.Swap(false); registered == 0 || !c.up.Load() || check || dirty {
		rejoin := registered == 0 || !c.up.Load()
		if rejoin {
			if err := c.listening(ctx); err != nil {
				c.setDown(err)
				return
			}
		}
		if _, err := c.do(ctx, &op{fn: func(ctx context.Context) error { return c.reconcile(ctx, rejoin) }}); err != nil {
			c.dirty.Store(true)
			c.setDown(err)
			return
		}
		c.setUp()
	}
	c.reap(ctx)
}

// reap frees the nodes whose liveness key expired: their sockets leave
// their rooms, and the rooms hear of it.
func (c *Cluster) reap(ctx context.Context) {
	nodes, err := c.rdb.SMembers(ctx, c.k.nodes()).Result()
	if err != nil {
		return
	}
	pipe := c.rdb.Pipeline()
	alive := make([]*redis.IntCmd, len(nodes))
	for i, n := range nodes {
		alive[i] = pipe.Exists(ctx, c.k.alive(n))
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return
	}
	live := 0
	for i, n := range nodes {
		if alive[i].Val() == 1 {
			live++
			continue
		}
		freed, err := reapScript.Run(ctx, c.rdb, []string{c.k.nodes(), c.k.sockets(n)}, n, c.opts.Prefix).Int()
		if err == nil && freed >= 0 {
			c.log.Warn("node gone: its sockets left their rooms", "dead_node", n, "sockets", freed)
		}
	}
	c.nodes.Store(int64(live))
}

// reconcile makes Redis hold exactly this node's sockets, in their rooms
// and roles, and reads every room this node has members in afresh. It
// runs on the worker, in order with joins and leaves. With rejoin, the
// views are reset first: Redis may have restarted, its versions with it.
// A talker whose room another node's talker took meanwhile is kicked.
func (c *Cluster) reconcile(ctx context.Context, rejoin bool) error {
	// The liveness key is renewed as the node (re)registers: the beat that
	// set it may have waited most of a TTL for the subscriptions to come
	// back (listening), and the others reap a registered node whose key
	// has expired, its sockets announced gone though they never left.
	pipe := c.rdb.TxPipeline()
	pipe.Set(ctx, c.k.alive(c.node), "1", c.opts.TTL)
	pipe.SAdd(ctx, c.k.nodes(), c.node)
	if _, err := pipe.Exec(ctx); err != nil {
		return err
	}
	held, err := c.rdb.HGetAll(ctx, c.k.sockets(c.node)).Result()
	if err != nil {
		return err
	}
	mine, rooms := c.members()
	if err := loadScripts(ctx, c.rdb); err != nil {
		return err
	}
	joins, err := c.correct(ctx, held, mine, rejoin)
	if err != nil {
		return err
	}
	if len(c.streams) > maxStreams {
		clear(c.streams)
	}
	if err := c.snapshots(ctx, rooms, rejoin); err != nil {
		return err
	}
	for id, cmd := range joins {
		if list, _ := cmd.Slice(); len(list) > 0 && list[0] == "taken" {
			c.local.Kick(id, signaling.ErrRoomTaken)
		}
	}
	if rejoin {
		c.log.Info("registered with redis", "sockets", len(mine), "rooms", len(rooms))
	}
	return nil
}

// members returns a copy of this node's sockets, by id, and the rooms it
// has views of.
func (c *Cluster) members() (map[string]member, []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	mine := make(map[string]member, len(c.mine))
	for id, m := range c.mine {
		mine[id] = *m
	}
	rooms := make([]string, 0, len(c.views))
	for room := range c.views {
		rooms = append(rooms, room)
	}
	return mine, rooms
}

// loadScripts loads the scripts reconcile's pipelines call by their SHA1,
// so that they are not sent whole with each call. (Script.Load in a
// pipeline would forget the SHA1s: they are loaded one by one.)
func loadScripts(ctx context.Context, rdb *redis.Client) error {
	for _, s := range []*redis.Script{joinScript, leaveScript, snapshotScript} {
		if err := s.Load(ctx, rdb).Err(); err != nil {
			return err
		}
	}
	return nil
}

// correct makes Redis's record of this node's sockets, held (socket id to
// room), match mine, in one pipeline: it leaves what Redis holds wrongly
// and joins what it lacks (all of mine with rejoin; a talker always, to
// check its role), except joins still pending. It returns the joins made,
// whose replies say whether a talker lost its room.
func (c *Cluster) correct(ctx context.Context, held map[string]string, mine map[string]member, rejoin bool) (map[string]*redis.Cmd, error) {
	pipe := c.rdb.Pipeline()
	for id, room := range held {
		if m, ok := mine[id]; !ok || (m.room != room && !m.pending) {
			leaveScript.EvalSha(ctx, pipe, c.memberKeys(room), id, c.node, room, c.opts.Prefix)
		}
	}
	joins := map[string]*redis.Cmd{}
	for id, m := range mine {
		if m.pending || (held[id] == m.room && !m.talker && !rejoin) {
			continue
		}
		joins[id] = joinScript.EvalSha(ctx, pipe, c.memberKeys(m.room), id, c.node, flag(m.talker), 0, "1", m.room, c.opts.Prefix)
	}
	if _, err := pipe.Exec(ctx); err != nil && !isReplyError(err) {
		return nil, err
	}
	return joins, nil
}

// snapshotBatch bounds the rooms read in one pipeline.
const snapshotBatch = 1000

// snapshots reads rooms afresh into their views, snapshotBatch rooms per
// round trip (forced after a rejoin, see replace).
func (c *Cluster) snapshots(ctx context.Context, rooms []string, force bool) error {
	for len(rooms) > 0 {
		n := min(len(rooms), snapshotBatch)
		pipe := c.rdb.Pipeline()
		cmds := make([]*redis.Cmd, n)
		for i, room := range rooms[:n] {
			cmds[i] = snapshotScript.EvalSha(ctx, pipe, c.k.room(room))
		}
		_, _ = pipe.Exec(ctx) // each reply is checked below
		for i, room := range rooms[:n] {
			reply, err := cmds[i].Slice()
			if err != nil {
				return err
			}
			if s, err := parseSnapshot(reply); err == nil {
				c.replace(room, s, force)
			}
		}
		rooms = rooms[n:]
	}
	return nil
}
