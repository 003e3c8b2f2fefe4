package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// resubscribe asks for the room channels to be made those of the rooms
// this node has views of. It does not wait.
func (c *Cluster) resubscribe() {
	select {
	case c.subsKick <- struct{}{}:
	default: // a pass is due anyway
	}
}

// subscriptions keeps the node subscribed to the channel of each room it
// has a view of, and to no other room's, until Close. Each pass compares
// the views with what is subscribed, so changes that race (a room's last
// member leaving as a new one enters) cannot leave it out of step. A
// change may wait on a connection to Redis, hence its own goroutine.
func (c *Cluster) subscriptions() {
	defer c.wg.Done()
	have := map[string]bool{}
	for {
		select {
		case <-c.subsKick:
		case <-c.subsStop:
			return
		}
		c.mu.Lock()
		want := make(map[string]bool, len(c.views))
		for room, v := range c.views {
			ch := c.k.roomChannel(room)
			want[ch] = true
			if v.waiting && have[ch] { // still subscribed from before
				v.waiting = false
				close(v.ready)
			}
		}
		var on, off []string
		for ch := range want {
			if !have[ch] {
				on = append(on, ch)
				have[ch] = true
				c.fresh[ch] = true
			}
		}
		c.mu.Unlock()
		for ch := range have {
			if !want[ch] {
				off = append(off, ch)
				delete(have, ch)
			}
		}
		// An error leaves the channels in the set go-redis resubscribes to
		// when it reconnects.
		ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
		if len(on) > 0 {
			_ = c.ps.Subscribe(ctx, on...)
		}
		if len(off) > 0 {
			_ = c.ps.Unsubscribe(ctx, off...)
		}
		cancel()
	}
}

// receive reads the node's subscriptions until Close.
func (c *Cluster) receive(ctx context.Context) {
	defer c.wg.Done()
	for {
		msg, err := c.ps.ReceiveTimeout(ctx, c.opts.TTL)
		if ctx.Err() != nil {
			return
		}
		var ne net.Error
		switch {
		case err != nil && errors.As(err, &ne) && ne.Timeout():
			_ = c.ps.Ping(ctx) // quiet channels: keep the connection checked
			continue
		case err != nil:
			// Not connected: go-redis redials, and resubscribes, on the
			// next receive.
			select {
			case <-ctx.Done():
				return
			case <-time.After(redialEvery):
			}
			continue
		}
		switch m := msg.(type) {
		case *redis.Pong:
			c.mu.Lock()
			if ch := c.pongs[m.Payload]; ch != nil {
				close(ch)
				delete(c.pongs, m.Payload)
			}
			c.mu.Unlock()
		case *redis.Subscription:
			switch m.Kind {
			case "subscribe":
				c.mu.Lock()
				if c.fresh[m.Channel] { // not a resubscription after a reconnect
					delete(c.fresh, m.Channel)
					delete(c.heard, m.Channel)
				}
				c.mu.Unlock()
				c.subscribed(m.Channel)
			case "unsubscribe":
				delete(c.heard, m.Channel)
			}
		case *redis.Message:
			c.dispatch(m.Channel, []byte(m.Payload))
		}
	}
}

// redialEvery is how often the receiver tries to reconnect to Redis.
const redialEvery = 250 * time.Millisecond

// listening returns once the node's subscriptions are live on Redis: a
// PING on the subscriber connection (which redials and resubscribes if it
// must) has come back, so the SUBSCRIBEs before it were done.
func (c *Cluster) listening(ctx context.Context) error {
	c.mu.Lock()
	c.pings++
	token := fmt.Sprintf("listening-%d", c.pings)
	pong := make(chan struct{})
	c.pongs[token] = pong
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		delete(c.pongs, token)
		c.mu.Unlock()
	}()
	if err := c.ps.Ping(ctx, token); err != nil {
		return err
	}
	select {
	case <-pong:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// subscribed: Redis confirmed a subscription. The first time for a room,
// its join may go ahead; otherwise the room is read afresh, since events
// may have been missed.
func (c *Cluster) subscribed(channel string) {
	room, ok := strings.CutPrefix(channel, c.k.roomChannel(""))
	if !ok {
		return
	}
	c.mu.Lock()
	v := c.views[room]
	first := v != nil && v.waiting
	if first {
		v.waiting = false
		close(v.ready)
	}
	// Read afresh after a reconnection, or when a join gave up waiting for
	// this subscription and took its snapshot before it.
	again := v != nil && (!first || v.based)
	c.mu.Unlock()
	if again {
		c.enqueue(c.snapshotOp(room, false))
	}
}

// dispatch handles one message from a channel: a routed message for this
// node's sockets, or a room's membership event.
func (c *Cluster) dispatch(channel string, payload []byte) {
	if node, room, to, data, ok := decodeMessage(payload); ok {
		if node != c.node { // this node delivered its own already
			stream, seq := messageSeq(payload)
			if n := missed(c.heard, channel, node, stream, seq); n > 0 {
				c.dropped.Add(n)
			}
			c.local.Deliver(room, to, data)
		}
		return
	}
	room, ok := strings.CutPrefix(channel, c.k.roomChannel(""))
	if !ok {
		return
	}
	var ev event
	if err := json.Unmarshal(payload, &ev); err != nil {
		c.log.Warn("bad event from redis", "channel", channel, "err", err.Error())
		return
	}
	c.mu.Lock()
	var gone *departure
	gap := false
	if v := c.views[room]; v != nil {
		gone, gap = v.apply(room, ev, c.node)
	}
	c.mu.Unlock()
	if gone != nil {
		c.local.Departed(gone.room, gone.id, gone.talker)
	}
	if gap {
		c.enqueue(c.snapshotOp(room, false))
	}
}

// snapshotOp reads room afresh into its view.
func (c *Cluster) snapshotOp(room string, force bool) *op {
	return &op{fn: func(ctx context.Context) error {
		reply, err := snapshotScript.Run(ctx, c.rdb, c.k.room(room)).Slice()
		if err != nil {
			return err
		}
		s, err := parseSnapshot(reply)
		if err != nil {
			return err
		}
		c.replace(room, s, force)
		return nil
	}}
}
