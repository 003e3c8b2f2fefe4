package relay

import (
	"errors"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
)

// Sizes of a batchConn's queue.
const (
	// batchQueuePackets bounds the packets queued on one socket. Slots are
	// made as needed, then kept: at most batchQueuePackets ×
	// batchPacketBytes (1.5 MB) per socket.
	batchQueuePackets = 1024
	// batchWait is how long a write waits for room in a full queue while
	// none of the writer's calls returns, before its packet is dropped: a
	// burst (a group of pictures replayed to watchers joining together) is
	// paced by the socket, as it was by writing each packet at once, but a
	// socket the kernel no longer drains holds up a forwarding goroutine
	// once, not for every packet. It is long because on a host short of
	// CPU one call can take 100 ms and more (2 cores at a load of 28).
	batchWait = 500 * time.Millisecond
	// batchPacketBytes is the largest packet queued; a larger one is
	// written at once.
	batchPacketBytes = 1500
	// batchMessages is the most packets one system call writes: most of
	// what batching saves, with calls short enough to free slots often.
	batchMessages = 64
)

// batchWriter writes several datagrams in one system call: sendmmsg(2) on
// Linux, one write per datagram elsewhere (golang.org/x/net's ipv4 and
// ipv6 PacketConn). It returns how many it wrote; an error is the next
// one's.
type batchWriter interface {
	WriteBatch(ms []ipv4.Message, flags int) (int, error)
}

// batchConn is one UDP socket of the relay's ICE port (the UDP mux's),
// whose RTP and RTCP writes — every watcher's SRTP and SRTCP — are copied
// into a queue that one goroutine drains, many datagrams per system call:
// the packets queued while a call is under way go in the next. The
// forwarding goroutines (Upstream.Write's fan-out) then never make the
// system call themselves, nor wait on it. The queue is bounded: when it is
// full a packet is dropped and counted (Dropped), as the network would
// drop it; a socket the kernel no longer drains holds up nothing but its
// own queue. STUN and DTLS (ICE checks and handshakes), and any packet too
// big for a slot, are written at once, ahead of the queue.
//
// It implements ice.AddrPortReaderWriter (the mux's allocation-free path)
// and pion's transport.UDPConn, through the embedded *net.UDPConn for what
// it does not override.
type batchConn struct {
	*net.UDPConn
	batch batchWriter
	v4    bool // an IPv4 socket: addresses as 4 bytes

	mu     sync.Mutex
	queued []*queuedPacket // in order, for the writer
	free   []*queuedPacket
	made   int // slots made so far, at most batchQueuePackets
	closed bool
	// stalled: a write waited batchWait in vain; the next drop at once,
	// until the writer's next call goes through.
	stalled bool
	waiting int           // writes waiting for a slot
	calls   uint64        // the writer's calls returned so far
	wait    time.Duration // batchWait; tests lengthen it
	onStall func()        // if set, called as the drops begin (not under mu)

	wake  chan struct{} // a packet was queued (capacity 1)
	space chan struct{} // slots came free (capacity 1)
	stop  chan struct{} // closed by Close
	done  chan struct{} // closed when the writer has ended

	dropped, batches, sent atomic.Uint64
}

// queuedPacket is one slot of the queue.
type queuedPacket struct {
	n    int
	addr netip.AddrPort
	buf  [batchPacketBytes]byte
}

// newBatchConn wraps conn and starts its writer; Close stops it.
func newBatchConn(conn *net.UDPConn) *batchConn {
	return (&batchConn{UDPConn: conn}).init()
}

// init sets c's batch writer for its socket's family and starts it.
func (c *batchConn) init() *batchConn {
	if la, ok := c.LocalAddr().(*net.UDPAddr); ok && la.IP.To4() != nil {
		c.v4 = true
		c.batch = ipv4.NewPacketConn(c.UDPConn)
	} else {
		c.batch = ipv6.NewPacketConn(c.UDPConn)
	}
	return c.start()
}

// start makes the queue and runs the writer on c.batch.
func (c *batchConn) start() *batchConn {
	c.wake = make(chan struct{}, 1)
	c.space = make(chan struct{}, 1)
	if c.wait == 0 {
		c.wait = batchWait
	}
	c.stop = make(chan struct{})
	c.done = make(chan struct{})
	go c.run()
	return c
}

// isMedia reports whether a datagram is RTP or RTCP (RFC 7983: first byte
// 128 to 191), rather than STUN (0-3) or DTLS (20-63).
func isMedia(b []byte) bool { return len(b) > 0 && b[0] >= 128 && b[0] <= 191 }

// WriteToAddrPort queues an RTP or RTCP packet to addr, or drops it (see
// batchConn), and writes any other packet at once. A packet queued or
// dropped counts as written (n = len(b)); it returns net.ErrClosed once
// the socket is closed.
func (c *batchConn) WriteToAddrPort(b []byte, addr netip.AddrPort) (int, error) {
	if !isMedia(b) || len(b) > batchPacketBytes {
		return c.UDPConn.WriteToUDPAddrPort(b, addr)
	}
	p, err := c.slot()
	if err != nil {
		return 0, err
	}
	if p == nil {
		return len(b), nil // dropped
	}
	p.n = copy(p.buf[:], b)
	p.addr = addr
	c.queued = append(c.queued, p)
	c.mu.Unlock()
	select {
	case c.wake <- struct{}{}:
	default: // the writer is awake already
	}
	return len(b), nil
}

// slot returns a free slot with c.mu held, or nil (c.mu not held) if the
// packet is to be dropped — counted — or the socket is closed (an error).
func (c *batchConn) slot() (*queuedPacket, error) {
	var timer *time.Timer // made only if the queue is full
	var armed uint64      // c.calls as the timer was set
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		c.mu.Lock()
		switch {
		case c.closed:
			c.mu.Unlock()
			return nil, net.ErrClosed
		case len(c.free) > 0:
			p := c.free[len(c.free)-1]
			c.free = c.free[:len(c.free)-1]
			if c.waiting > 0 && len(c.free) > 0 {
				c.signalSpace() // room for another waiting write
			}
			return p, nil
		case c.made < batchQueuePackets:
			c.made++
			return new(queuedPacket), nil
		case c.stalled:
			c.mu.Unlock()
			c.dropped.Add(1)
			return nil, nil
		}
		c.waiting++
		if timer == nil {
			timer, armed = time.NewTimer(c.wait), c.calls
		}
		c.mu.Unlock()
		var timedOut bool
		select {
		case <-c.space:
		case <-c.stop:
		case <-timer.C:
			timedOut = true
		}
		c.mu.Lock()
		c.waiting--
		if timedOut && c.calls != armed {
			// Slow, not stuck: the writer's calls go through, only not
			// fast enough for the free slots to reach this write.
			timedOut, armed = false, c.calls
			timer.Reset(c.wait)
		}
		if timedOut {
			began := !c.stalled
			c.stalled = true
			c.mu.Unlock()
			c.dropped.Add(1)
			if began && c.onStall != nil {
				c.onStall()
			}
			return nil, nil
		}
		c.mu.Unlock()
	}
}

// signalSpace wakes a write waiting for a slot, if any.
func (c *batchConn) signalSpace() {
	select {
	case c.space <- struct{}{}:
	default:
	}
}

// WriteTo is WriteToAddrPort for a *net.UDPAddr; other addresses are
// written at once.
func (c *batchConn) WriteTo(b []byte, addr net.Addr) (int, error) {
	if ua, ok := addr.(*net.UDPAddr); ok {
		return c.WriteToAddrPort(b, ua.AddrPort())
	}
	return c.UDPConn.WriteTo(b, addr)
}

// ReadFromAddrPort reads a datagram (ice.AddrPortReaderWriter).
func (c *batchConn) ReadFromAddrPort(b []byte) (int, netip.AddrPort, error) {
	return c.UDPConn.ReadFromUDPAddrPort(b)
}

// Close drops what is queued, closes the socket and waits for the writer.
func (c *batchConn) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return net.ErrClosed
	}
	c.closed = true
	c.mu.Unlock()
	close(c.stop)
	err := c.UDPConn.Close() // ends a write the kernel holds
	<-c.done
	return err
}

// Dropped returns how many packets were dropped for a full queue, or by a
// write that failed.
func (c *batchConn) Dropped() uint64 { return c.dropped.Load() }

// run is the writer: it takes everything queued at once, writes it in
// system calls of up to batchMessages datagrams, and gives the slots back.
func (c *batchConn) run() {
	defer close(c.done)
	w := newBatchScratch(c.v4)
	var batch []*queuedPacket
	for {
		select {
		case <-c.stop:
			return
		case <-c.wake:
		}
		for {
			c.mu.Lock()
			batch, c.queued = c.queued, batch[:0]
			c.mu.Unlock()
			if len(batch) == 0 {
				break
			}
			ok := c.write(w, batch)
			clear(batch) // the slots are the free list's
			if !ok {
				return
			}
		}
	}
}

// write writes batch, giving each call's slots back as it returns, and
// reports false once the socket is closed.
func (c *batchConn) write(w *batchScratch, batch []*queuedPacket) bool {
	for len(batch) > 0 {
		k := w.fill(batch)
		n, err := c.batch.WriteBatch(w.msgs[:k], 0)
		n = max(n, 0)
		c.sent.Add(uint64(n))
		done := n
		switch {
		case errors.Is(err, net.ErrClosed):
			c.dropped.Add(uint64(len(batch) - n))
			c.release(batch)
			return false
		case err != nil:
			done++ // the one that failed is dropped (an ICMP error, say)
			c.dropped.Add(1)
		case n == 0:
			done = k // a call that wrote nothing and said nothing: move on
		}
		done = min(done, len(batch))
		c.release(batch[:done])
		batch = batch[done:]
	}
	return true
}

// release gives slots back after a call: the writer got through, the
// socket is draining.
func (c *batchConn) release(ps []*queuedPacket) {
	c.mu.Lock()
	c.free = append(c.free, ps...)
	c.stalled = false
	c.calls++
	c.mu.Unlock()
	c.batches.Add(1)
	c.signalSpace()
}

// batchScratch is the writer's own messages and addresses, reused for
// every system call: writing allocates nothing.
type batchScratch struct {
	v4    bool
	msgs  []ipv4.Message
	bufs  [][]byte
	addrs []net.UDPAddr
	ips   [][16]byte
}

func newBatchScratch(v4 bool) *batchScratch {
	w := &batchScratch{
		v4: v4, msgs: make([]ipv4.Message, batchMessages), bufs: make([][]byte, batchMessages),
		addrs: make([]net.UDPAddr, batchMessages), ips: make([][16]byte, batchMessages),
	}
	for i := range w.msgs {
		w.msgs[i].Buffers = w.bufs[i : i+1 : i+1]
		w.msgs[i].Addr = &w.addrs[i]
	}
	return w
}

// fill sets the messages for batch's first packets and returns how many.
func (w *batchScratch) fill(batch []*queuedPacket) int {
	k := min(len(batch), batchMessages)
	for i, p := range batch[:k] {
		w.bufs[i] = p.buf[:p.n]
		ip := p.addr.Addr()
		a := &w.addrs[i]
		if w.v4 {
			b := ip.Unmap().As4()
			copy(w.ips[i][:4], b[:])
			a.IP = w.ips[i][:4]
		} else {
			w.ips[i] = ip.As16()
			a.IP = w.ips[i][:16]
		}
		a.Port, a.Zone = int(p.addr.Port()), ip.Zone()
	}
	return k
}
