package cluster

import (
	"context"
	"errors"
	"fmt"

	"github.com/redis/go-redis/v9"
)

// op is one write to Redis: a publish, a script, or a function run on its
// own. One worker runs them in the order they were queued, publishes and
// scripts in pipelined batches, so this node's changes and messages reach
// Redis, and so the other nodes, in the order they happened.
type op struct {
	channel string // publish payload to channel
	payload []byte

	script *redis.Script // or run script
	keys   []string
	args   []any

	fn   func(context.Context) error // or call fn
	last bool                        // the worker stops after this op

	done chan result // nil: nobody waits
}

type result struct {
	val any
	err error
}

// maxBatch bounds the ops sent in one pipeline.
const maxBatch = 256

// enqueue queues o without waiting. When the queue is full, or the
// cluster closed, o is dropped: a publish is counted in Dropped, and a
// dropped registry change is made good by the next heartbeat.
func (c *Cluster) enqueue(o *op) {
	if !c.isClosed() {
		select {
		case c.ops <- o:
			return
		default:
		}
	}
	c.fail(o, ErrUnavailable)
}

// do queues o and waits for its result, or for ctx.
func (c *Cluster) do(ctx context.Context, o *op) (any, error) {
	if c.isClosed() {
		return nil, ErrUnavailable
	}
	o.done = make(chan result, 1)
	select {
	case c.ops <- o:
	case <-ctx.Done():
		return nil, fmt.Errorf("%w: %w", ErrUnavailable, ctx.Err())
	}
	select {
	case r := <-o.done:
		return r.val, r.err
	case <-ctx.Done():
		return nil, fmt.Errorf("%w: %w", ErrUnavailable, ctx.Err())
	}
}

func (c *Cluster) fail(o *op, err error) {
	if o.channel != "" {
		c.dropped.Add(1)
	} else if o.script != nil {
		c.dirty.Store(true) // reconciled at the next heartbeat
	}
	if o.done != nil {
		o.done <- result{err: err}
	}
}

// work runs queued ops until the op that Close queues last.
func (c *Cluster) work() {
	defer c.wg.Done()
	batch := make([]*op, 0, maxBatch)
	for {
		batch = append(batch[:0], <-c.ops)
	fill:
		for len(batch) < maxBatch {
			select {
			case o := <-c.ops:
				batch = append(batch, o)
			default:
				break fill
			}
		}
		if c.run(batch) {
			return
		}
	}
}

// run runs a batch in order and reports whether it ran Close's last op.
func (c *Cluster) run(batch []*op) (last bool) {
	for len(batch) > 0 {
		if o := batch[0]; o.fn != nil {
			ctx, cancel := context.WithTimeout(context.Background(), longOpTimeout)
			err := o.fn(ctx)
			cancel()
			if o.done != nil {
				o.done <- result{err: err}
			}
			batch = batch[1:]
			if o.last {
				return true
			}
			continue
		}
		n := 1
		for n < len(batch) && batch[n].fn == nil {
			n++
		}
		c.pipeline(batch[:n])
		batch = batch[n:]
	}
	return false
}

// pipeline sends publishes and scripts in one round trip. While Redis is
// unreachable they fail at once: the heartbeat finds when it is back.
// Failed publishes are lost (counted in Dropped).
func (c *Cluster) pipeline(ops []*op) {
	if !c.up.Load() {
		for _, o := range ops {
			c.fail(o, ErrUnavailable)
		}
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	pipe := c.rdb.Pipeline()
	cmds := make([]redis.Cmder, len(ops))
	for i, o := range ops {
		if o.script != nil {
			cmds[i] = o.script.Eval(ctx, pipe, o.keys, o.args...)
		} else {
			if o.payload[0] == messageTag {
				c.number(o)
			}
			cmds[i] = pipe.Publish(ctx, o.channel, o.payload)
		}
	}
	_, err := pipe.Exec(ctx)
	if err != nil && !isReplyError(err) {
		// The heartbeat decides whether Redis is down; these writes are
		// made good by the reconciliation it runs next.
		c.dirty.Store(true)
		for _, o := range ops {
			c.fail(o, fmt.Errorf("%w: %w", ErrUnavailable, err))
		}
		return
	}
	for i, o := range ops {
		if o.done == nil {
			continue
		}
		switch cmd := cmds[i].(type) {
		case *redis.Cmd:
			v, err := cmd.Result()
			o.done <- result{v, err}
		default:
			o.done <- result{err: cmds[i].Err()}
		}
	}
}

// isReplyError reports whether err is Redis refusing a command, as opposed
// to not answering.
func isReplyError(err error) bool {
	var re redis.Error
	return errors.As(err, &re) && !errors.Is(err, redis.ErrClosed)
}

// number stamps a message with its channel's stream and next sequence
// number. Only the worker calls it, in the order messages are sent.
func (c *Cluster) number(o *op) {
	st := c.streams[o.channel]
	if st == nil {
		c.lastStream++
		st = &stream{id: c.lastStream}
		c.streams[o.channel] = st
	}
	st.seq++
	stampMessage(o.payload, st.id, st.seq)
}

// maxStreams bounds the channels the worker numbers messages for; past
// it, reconcile starts every channel on a new stream, which no receiver
// counts as a loss.
const maxStreams = 4096
