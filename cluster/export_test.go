package cluster

import (
	"context"

	"github.com/redis/go-redis/v9"
)

// Halt stops the node as a crash would: no farewell, its liveness key
// left to expire.
func (c *Cluster) Halt() { _ = c.stop(context.Background(), false) }

// Reconcile runs one check that Redis holds exactly the node's sockets,
// and reads its rooms afresh, on the worker, as a heartbeat does.
func (c *Cluster) Reconcile(ctx context.Context) error {
	_, err := c.do(ctx, &op{fn: func(ctx context.Context) error { return c.reconcile(ctx, false) }})
	return err
}

// Subscribed reports whether every room's subscription is confirmed: no
// confirmation is still to come, to have its room read afresh.
func (c *Cluster) Subscribed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, v := range c.views {
		if v.waiting {
			return false
		}
	}
	return len(c.fresh) == 0
}

// Beat runs one heartbeat now, with its check of the node's sockets.
func (c *Cluster) Beat(ctx context.Context) { c.beat(ctx, true) }

// AddHook watches the node's commands to Redis (not its subscriptions).
func (c *Cluster) AddHook(h redis.Hook) { c.rdb.AddHook(h) }

// Stall holds the worker and fills its queue, so that whatever is queued
// next without waiting is dropped, until release is called; release
// returns once the worker has run everything queued before it.
func (c *Cluster) Stall() (release func()) {
	hold := make(chan struct{})
	held := make(chan struct{})
	c.ops <- &op{fn: func(context.Context) error { close(held); <-hold; return nil }}
	<-held
	noop := &op{fn: func(context.Context) error { return nil }}
fill:
	for {
		select {
		case c.ops <- noop:
		default:
			break fill
		}
	}
	return func() {
		close(hold)
		_, _ = c.do(context.Background(), &op{fn: func(context.Context) error { return nil }})
	}
}

// Message encodes a routed message from node, numbered seq of stream, as
// it crosses nodes.
func Message(node, room, to string, data []byte, stream, seq uint64) []byte {
	p := encodeMessage(node, room, to, data)
	stampMessage(p, stream, seq)
	return p
}
