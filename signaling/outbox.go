package signaling

import (
	"fmt"
	"sync"
)

// Sink is the transport side of one client.
type Sink interface {
	// WriteFrames writes frames to the client, in order. It may block
	// while the client is slow; it is never called concurrently for one
	// Sink, and must not keep the slice.
	WriteFrames(frames []*Frame) error
	// Close closes the client's connection. It must not block on the peer.
	Close() error
}

// outbox is a client's outbound queue, bounded in bytes. A writer
// goroutine runs only while frames are queued, so an idle client costs no
// goroutine here. A push that would exceed the limit evicts the client
// instead of blocking the sender.
//
// Frames other clients chose to send (a watcher's messages to its talker)
// are offered instead, under shares: each origin may hold originLimit
// bytes of the queue and all origins together sharedLimit. An offer past a
// share is refused to its origin, so what others send can never evict the
// client; only what the client fails to read of its own traffic can.
type outbox struct {
	sink        Sink
	limit       int
	originLimit int
	sharedLimit int
	onEvict     func(error) // called at most once, on its own goroutine

	mu      sync.Mutex // guards the fields below
	queue   []entry
	queued  int            // bytes in queue and in the batch being written
	shares  map[string]int // bytes of each origin in queued
	shared  int            // bytes of all origins in queued
	writing bool
	closed  bool
}

// entry is a queued frame and the client whose share it counts against
// ("" for the hub's own traffic).
type entry struct {
	f      *Frame
	origin string
}

// shares bound what other clients may queue for one client, in bytes.
type shares struct {
	perOrigin int // one origin's share
	total     int // all origins together
}

func newOutbox(sink Sink, limit int, sh shares, onEvict func(error)) *outbox {
	return &outbox{sink: sink, limit: limit, originLimit: sh.perOrigin, sharedLimit: sh.total, onEvict: onEvict}
}

// offer queues f on behalf of origin, another client, within origin's share
// and the total share. It returns ErrTalkerBusy past either, ErrClosed
// after close, and never evicts for origin's traffic: if the queue itself
// is full, the client is evicted as by push.
func (o *outbox) offer(f *Frame, origin string) error {
	size := f.Size()
	o.mu.Lock()
	switch {
	case o.closed:
		o.mu.Unlock()
		return ErrClosed
	case o.shares[origin]+size > o.originLimit:
		o.mu.Unlock()
		return fmt.Errorf("%w: %d bytes of yours still unread", ErrTalkerBusy, o.shares[origin])
	case o.shared+size > o.sharedLimit:
		o.mu.Unlock()
		return fmt.Errorf("%w: %d bytes from watchers still unread", ErrTalkerBusy, o.shared)
	}
	if o.shares == nil {
		o.shares = make(map[string]int)
	}
	o.shares[origin] += size
	o.shared += size
	if !o.pushLocked(entry{f, origin}) {
		return ErrClosed
	}
	return nil
}

// push queues f and reports whether it was accepted. It never blocks on
// the client.
func (o *outbox) push(f *Frame) bool {
	o.mu.Lock()
	if o.closed {
		o.mu.Unlock()
		return false
	}
	return o.pushLocked(entry{f, ""})
}

// pushLocked queues e and unlocks o.mu. It evicts the client if the queue
// would exceed its limit.
func (o *outbox) pushLocked(e entry) bool {
	if o.queued+e.f.Size() > o.limit {
		o.closeLocked()
		o.mu.Unlock()
		go o.onEvict(ErrSlowConsumer)
		return false
	}
	o.queue = append(o.queue, e)
	o.queued += e.f.Size()
	start := !o.writing
	o.writing = true
	o.mu.Unlock()
	if start {
		go o.drain()
	}
	return true
}

// drain writes queued frames in order until the queue is empty.
func (o *outbox) drain() {
	var batch []entry
	var frames []*Frame
	for {
		o.mu.Lock()
		if o.closed || len(o.queue) == 0 {
			o.writing = false
			o.mu.Unlock()
			return
		}
		batch, o.queue = o.queue, batch[:0]
		o.mu.Unlock()

		frames = frames[:0]
		for _, e := range batch {
			frames = append(frames, e.f)
		}
		err := o.write(frames)
		clear(frames)
		if !o.written(batch, err) {
			return
		}
	}
}

// written accounts for a batch drain handed the sink, which failed with
// err if not nil: its bytes leave the queue and their origins' shares, and
// its entries are cleared for reuse. A failed write closes the outbox and
// evicts the client; written then reports false, and drain stops.
func (o *outbox) written(batch []entry, err error) bool {
	o.mu.Lock()
	size := 0
	for i, e := range batch {
		size += e.f.Size()
		if e.origin != "" && !o.closed {
			o.release(e.origin, e.f.Size())
		}
		batch[i] = entry{}
	}
	if err != nil {
		first := !o.closed
		o.closeLocked()
		o.writing = false
		o.mu.Unlock()
		if first {
			go o.onEvict(err)
		}
		return false
	}
	if !o.closed {
		o.queued -= size
	}
	o.mu.Unlock()
	return true
}

// write hands batch to the sink; a panic in it is the client's failure.
func (o *outbox) write(batch []*Frame) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = recovered(v)
		}
	}()
	return o.sink.WriteFrames(batch)
}

// close drops what is queued and refuses further frames.
func (o *outbox) close() {
	o.mu.Lock()
	o.closeLocked()
	o.mu.Unlock()
}

// release returns size bytes to origin's share. o.mu must be held.
func (o *outbox) release(origin string, size int) {
	o.shared -= size
	if o.shares[origin] -= size; o.shares[origin] <= 0 {
		delete(o.shares, origin)
	}
}

func (o *outbox) closeLocked() {
	o.closed = true
	o.queue = nil
	o.queued = 0
	o.shares = nil
	o.shared = 0
}
