package relay

import (
	"bytes"
	"net"
	"net/netip"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/net/ipv4"
)

// loopbackUDP returns a UDP socket on 127.0.0.1, closed when t ends.
func loopbackUDP(t testing.TB) *net.UDPConn {
	t.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// mediaPacket is an RTP-looking datagram (first byte 0x80) numbered i.
func mediaPacket(i, size int) []byte {
	p := make([]byte, size)
	p[0], p[1], p[2], p[3] = 0x80, 96, byte(i>>8), byte(i)
	return p
}

// TestBatchConnDelivers: queued packets all go out, in order, and the
// writer batches them.
func TestBatchConnDelivers(t *testing.T) {
	rx := loopbackUDP(t)
	_ = rx.SetReadBuffer(4 << 20)
	c := newBatchConn(loopbackUDP(t))
	to := rx.LocalAddr().(*net.UDPAddr).AddrPort()
	const n = 500
	for i := range n {
		if _, err := c.WriteToAddrPort(mediaPacket(i, 200), to); err != nil {
			t.Fatal(err)
		}
	}
	buf := make([]byte, 1500)
	_ = rx.SetReadDeadline(time.Now().Add(10 * time.Second))
	for i := range n {
		k, _, err := rx.ReadFromUDPAddrPort(buf)
		if err != nil {
			t.Fatalf("packet %d: %v (dropped %d)", i, err, c.Dropped())
		}
		if !bytes.Equal(buf[:k], mediaPacket(i, 200)) {
			t.Fatalf("packet %d: got %x", i, buf[:4])
		}
	}
	if err := c.Close(); err != nil { // the writer's counts are final
		t.Fatal(err)
	}
	if b, s := c.batches.Load(), c.sent.Load(); s != n || b >= n {
		t.Errorf("%d packets in %d system calls", s, b)
	}
}

// frozenWriter is a socket the kernel no longer drains: WriteBatch blocks
// until released (the socket closed).
type frozenWriter struct {
	entered chan struct{} // a write is blocked
	once    sync.Once
	release chan struct{}
}

func (f *frozenWriter) WriteBatch([]ipv4.Message, int) (int, error) {
	f.once.Do(func() { close(f.entered) })
	<-f.release
	return 0, net.ErrClosed
}

// TestBatchConnFrozen: with the writer stuck in a system call, writes go
// on returning at once; past the queue's bound packets are dropped and
// counted; STUN still goes out; Close ends the writer.
func TestBatchConnFrozen(t *testing.T) {
	rx := loopbackUDP(t)
	f := &frozenWriter{entered: make(chan struct{}), release: make(chan struct{})}
	var stalls atomic.Int32
	c := (&batchConn{UDPConn: loopbackUDP(t), batch: f, v4: true, wait: 100 * time.Millisecond, onStall: func() { stalls.Add(1) }}).start()
	to := rx.LocalAddr().(*net.UDPAddr).AddrPort()
	pkt := mediaPacket(1, 1200)
	if _, err := c.WriteToAddrPort(pkt, to); err != nil {
		t.Fatal(err)
	}
	<-f.entered
	const extra = 100
	start := time.Now()
	for range batchQueuePackets + extra {
		if n, err := c.WriteToAddrPort(pkt, to); n != len(pkt) || err != nil {
			t.Fatalf("write: %d, %v", n, err)
		}
	}
	// The first write past the bound waits c.wait; the others drop at once
	// (101 waits would take 10 s).
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("writes to a full queue took %v", d)
	}
	if n := stalls.Load(); n != 1 {
		t.Errorf("%d stalls told, want 1", n)
	}
	// The first packet's slot is the stuck write's: the queue holds one less.
	if got := c.Dropped(); got != extra+1 {
		t.Errorf("dropped %d, want %d", got, extra+1)
	}
	stun := []byte{0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42}
	if _, err := c.WriteToAddrPort(stun, to); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 1500)
	_ = rx.SetReadDeadline(time.Now().Add(10 * time.Second))
	if n, _, err := rx.ReadFromUDPAddrPort(buf); err != nil || !bytes.Equal(buf[:n], stun) {
		t.Fatalf("STUN: %x, %v", buf[:n], err)
	}
	close(f.release)
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.WriteToAddrPort(pkt, to); err == nil {
		t.Error("write after Close: no error")
	}
}

// steppedWriter is a slow socket: each WriteBatch waits for a step, then
// writes everything.
type steppedWriter struct {
	step chan struct{}
	sent chan int // how many each call wrote
}

func (s *steppedWriter) WriteBatch(ms []ipv4.Message, _ int) (int, error) {
	select {
	case <-s.step:
	case <-time.After(time.Minute): // the test has ended
		return 0, net.ErrClosed
	}
	s.sent <- len(ms)
	return len(ms), nil
}

// TestBatchConnBurstPaced: a burst past the queue's bound to a socket that
// drains slowly is paced, not dropped.
func TestBatchConnBurstPaced(t *testing.T) {
	s := &steppedWriter{step: make(chan struct{}), sent: make(chan int)}
	c := (&batchConn{UDPConn: loopbackUDP(t), batch: s, v4: true, wait: time.Minute}).start()
	to := netip.MustParseAddrPort("127.0.0.1:9")
	const total = 3*batchQueuePackets + 17
	wrote := make(chan error, 1)
	go func() {
		for i := range total {
			if _, err := c.WriteToAddrPort(mediaPacket(i, 100), to); err != nil {
				wrote <- err
				return
			}
		}
		wrote <- nil
	}()
	for sent := 0; sent < total; {
		s.step <- struct{}{}
		sent += <-s.sent
	}
	if err := <-wrote; err != nil {
		t.Fatal(err)
	}
	if d := c.Dropped(); d != 0 {
		t.Errorf("dropped %d", d)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestBatchConnAddresses: IPv4 packets to several addresses each reach
// theirs (the writer's reused addresses).
func TestBatchConnAddresses(t *testing.T) {
	rxs := []*net.UDPConn{loopbackUDP(t), loopbackUDP(t), loopbackUDP(t)}
	c := newBatchConn(loopbackUDP(t))
	defer func() { _ = c.Close() }()
	for round := range 3 {
		for i, rx := range rxs {
			to := netip.AddrPortFrom(netip.AddrFrom16(netip.MustParseAddr("127.0.0.1").As16()), rx.LocalAddr().(*net.UDPAddr).AddrPort().Port())
			if _, err := c.WriteToAddrPort(mediaPacket(i*10+round, 100), to); err != nil {
				t.Fatal(err)
			}
		}
	}
	buf := make([]byte, 1500)
	for i, rx := range rxs {
		_ = rx.SetReadDeadline(time.Now().Add(10 * time.Second))
		for round := range 3 {
			n, _, err := rx.ReadFromUDPAddrPort(buf)
			if err != nil || !bytes.Equal(buf[:n], mediaPacket(i*10+round, 100)) {
				t.Fatalf("receiver %d, round %d: %x, %v", i, round, buf[:4], err)
			}
		}
	}
}

// processCPU is the CPU time the process has used (user and system).
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkBatchConn: a fan-out burst, one 1200-byte RTP packet to each of
// burst watchers (loopback receivers), as pion's UDP mux writes them: at
// once with a system call each (direct), or queued for the batching
// writer (batched). An op is the burst, from its first write to its last
// datagram handed to the kernel: ns/packet is per datagram, cpu-ns/packet
// the process's CPU time per datagram (on loopback the kernel's delivery
// to the receiver is the sender's too); batched reports datagrams per
// system call. Run with
//
//	go test -run '^$' -bench BenchmarkBatchConn -benchmem ./relay/
func BenchmarkBatchConn(b *testing.B) {
	const burst = 200
	pkt := mediaPacket(1, 1200)
	for _, mode := range []string{"direct", "batched"} {
		b.Run(mode, func(b *testing.B) {
			rx := loopbackUDP(b)
			_ = rx.SetReadBuffer(8 << 20)
			to := rx.LocalAddr().(*net.UDPAddr).AddrPort()
			tx := loopbackUDP(b)
			write := tx.WriteToUDPAddrPort
			var c *batchConn
			if mode == "batched" {
				c = newBatchConn(tx)
				write = c.WriteToAddrPort
			}
			b.ReportAllocs()
			var sent uint64
			cpu0 := processCPU(b)
			for b.Loop() {
				for range burst {
					if _, err := write(pkt, to); err != nil {
						b.Fatal(err)
					}
				}
				if c != nil { // the burst's end: every datagram handed over
					sent += burst
					for c.sent.Load()+c.Dropped() < sent {
						runtime.Gosched()
					}
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*burst), "ns/packet")
			b.ReportMetric(float64((processCPU(b)-cpu0).Nanoseconds())/float64(b.N*burst), "cpu-ns/packet")
			if c != nil {
				_ = c.Close()
				b.ReportMetric(float64(c.sent.Load())/float64(max(c.batches.Load(), 1)), "packets/syscall")
				b.ReportMetric(float64(c.Dropped()), "dropped")
			}
		})
	}
}
