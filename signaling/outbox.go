package signaling

import "sync"

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
type outbox struct {
	sink    Sink
	limit   int
	onEvict func(error) // called at most once, on its own goroutine

	mu      sync.Mutex // guards the fields below
	queue   []*Frame
	queued  int // bytes in queue and in the frame being written
	writing bool
	closed  bool
}

func newOutbox(sink Sink, limit int, onEvict func(error)) *outbox {
	return &outbox{sink: sink, limit: limit, onEvict: onEvict}
}

// push queues f and reports whether it was accepted. It never blocks on
// the client.
func (o *outbox) push(f *Frame) bool {
	o.mu.Lock()
	if o.closed {
		o.mu.Unlock()
		return false
	}
	if o.queued+f.Size() > o.limit {
		o.closeLocked()
		o.mu.Unlock()
		go o.onEvict(ErrSlowConsumer)
		return false
	}
	o.queue = append(o.queue, f)
	o.queued += f.Size()
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
	var batch []*Frame
	for {
		o.mu.Lock()
		if o.closed || len(o.queue) == 0 {
			o.writing = false
			o.mu.Unlock()
			return
		}
		batch, o.queue = o.queue, batch[:0]
		o.mu.Unlock()

		err := o.write(batch)
		size := 0
		for i, f := range batch {
			size += f.Size()
			batch[i] = nil
		}
		o.mu.Lock()
		if err != nil {
			first := !o.closed
			o.closeLocked()
			o.writing = false
			o.mu.Unlock()
			if first {
				go o.onEvict(err)
			}
			return
		}
		if !o.closed {
			o.queued -= size
		}
		o.mu.Unlock()
	}
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

func (o *outbox) closeLocked() {
	o.closed = true
	o.queue = nil
	o.queued = 0
}
