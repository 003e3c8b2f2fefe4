package relay

import (
	"testing"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// One small NACK naming the same numbers again and again sends each packet
// once; named again within resendInterval it is not sent, after it is.
func TestNACKRepeatedSeqSentOnce(t *testing.T) {
	clk := newClock()
	u, _ := upstreamFor(t, webrtc.MimeTypeVP8, clk, 0)
	d, w := downstreamFor(t, 0xa)
	u.Add(d)
	for seq := uint16(100); seq < 120; seq++ {
		if err := u.Write(rtpPacket(t, seq, 9000, vp8KeyPayload)); err != nil {
			t.Fatal(err)
		}
	}
	w.take()
	// About 400 bytes of RTCP: 100 NACK pairs each naming packets 100 to 116.
	nack := &rtcp.TransportLayerNack{MediaSSRC: 0xa}
	for range 100 {
		nack.Nacks = append(nack.Nacks, rtcp.NackPair{PacketID: 100, LostPackets: 0xffff})
	}
	served, missed := d.HandleRTCP([]rtcp.Packet{nack})
	if got := len(w.take()); got != 17 || served != 17 || missed != maxNACKs-17 {
		t.Fatalf("a NACK naming 17 packets 100 times: wrote %d, served %d, missed %d; want 17 written", got, served, missed)
	}
	clk.Advance(resendInterval / 2)
	if served, _ := d.HandleRTCP([]rtcp.Packet{nack}); served != 0 || len(w.take()) != 0 {
		t.Fatalf("named again within %v: served %d", resendInterval, served)
	}
	clk.Advance(resendInterval / 2)
	if served, _ := d.HandleRTCP([]rtcp.Packet{nack}); served != 17 || len(w.take()) != 17 {
		t.Fatalf("named again after %v: served %d, want 17", resendInterval, served)
	}
}

// A watcher's retransmissions stay within its budget: rtxBurst at once,
// then rtxRate a second.
func TestNACKBudget(t *testing.T) {
	clk := newClock()
	u, _ := upstreamFor(t, webrtc.MimeTypeVP8, clk, 1024)
	d, w := downstreamFor(t, 0xa)
	u.Add(d)
	for seq := uint16(0); seq < 1000; seq++ {
		if err := u.Write(rtpPacket(t, seq, 9000, vp8KeyPayload)); err != nil {
			t.Fatal(err)
		}
	}
	w.take()
	all := make([]uint16, 1000)
	for i := range all {
		all[i] = uint16(i)
	}
	if served, missed := d.HandleNACK(all); served != rtxBurst || missed != 1000-rtxBurst || len(w.take()) != rtxBurst {
		t.Fatalf("1000 numbers at once: served %d, missed %d; want %d served", served, missed, rtxBurst)
	}
	clk.Advance(100 * time.Millisecond)
	if served, _ := d.HandleNACK(all); served != rtxRate/10 || len(w.take()) != rtxRate/10 {
		t.Fatalf("100 ms later: served %d, want %d", served, rtxRate/10)
	}
	// Another watcher has its own budget.
	e, we := downstreamFor(t, 0xe)
	u.Add(e)
	if err := u.Write(rtpPacket(t, 1000, 9000, vp8KeyPayload)); err != nil {
		t.Fatal(err)
	}
	if err := u.Write(rtpPacket(t, 1001, 9000, vp8ContPayload)); err != nil {
		t.Fatal(err)
	}
	we.take()
	if served, _ := e.HandleNACK([]uint16{1000, 1001}); served != 2 || len(we.take()) != 2 {
		t.Fatalf("another watcher: served %d, want 2", served)
	}
}

// gateWriter is a Writer that blocks while writing a packet numbered below
// from until released.
type gateWriter struct {
	from     uint16
	entered  chan struct{}
	release  chan struct{}
	forwards chan uint16
}

func (g *gateWriter) WriteRTP(h *rtp.Header, payload []byte) (int, error) {
	if h.SequenceNumber < g.from {
		g.entered <- struct{}{}
		<-g.release
		return len(payload), nil
	}
	g.forwards <- h.SequenceNumber
	return len(payload), nil
}

// A retransmission being written does not hold up the talker's packets.
func TestNACKWritesOutsideLock(t *testing.T) {
	u, _ := upstreamFor(t, webrtc.MimeTypeVP8, newClock(), 0)
	g := &gateWriter{from: 10, entered: make(chan struct{}), release: make(chan struct{}), forwards: make(chan uint16, 10)}
	d, err := NewDownstream(DownstreamConfig{SSRC: 0xa, PayloadType: 100, Writer: g})
	if err != nil {
		t.Fatal(err)
	}
	u.Add(d)
	if err := u.Write(rtpPacket(t, 10, 0, vp8KeyPayload)); err != nil {
		t.Fatal(err)
	}
	<-g.forwards
	g.from = 11 // packet 10 sent again blocks
	done := make(chan int)
	go func() {
		served, _ := d.HandleNACK([]uint16{10})
		done <- served
	}()
	<-g.entered
	wrote := make(chan error)
	go func() { wrote <- u.Write(rtpPacket(t, 11, 0, vp8ContPayload)) }()
	select {
	case seq := <-g.forwards:
		if seq != 11 {
			t.Errorf("forwarded %d, want 11", seq)
		}
	case <-time.After(5 * time.Second):
		t.Error("the talker's packet waited for a retransmission's write")
	}
	close(g.release)
	if err := <-wrote; err != nil {
		t.Error(err)
	}
	if served := <-done; served != 1 {
		t.Errorf("served %d, want 1", served)
	}
}

// One watcher's PLIs reach the Upstream at most once per
// watcherKeyframeInterval, even past the Upstream's shared throttle.
func TestWatcherPLIsLimited(t *testing.T) {
	clk := newClock()
	u, requests := upstreamFor(t, webrtc.MimeTypeVP8, clk, 0)
	d, _ := downstreamFor(t, 0xa)
	u.Add(d) // asks for a keyframe
	pli := []rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: 0xa}}
	steps := []struct {
		after time.Duration
		want  int // keyframe requests so far
	}{
		{watcherKeyframeInterval, 2},
		{DefaultKeyframeInterval + time.Millisecond, 2}, // the Upstream would ask; the watcher may not
		{watcherKeyframeInterval, 3},
	}
	for i, s := range steps {
		clk.Advance(s.after)
		d.HandleRTCP(pli)
		if *requests != s.want {
			t.Fatalf("step %d: %d keyframe requests, want %d", i, *requests, s.want)
		}
	}
}
