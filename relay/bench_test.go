package relay

import (
	"encoding/binary"
	"fmt"
	"runtime"
	"testing"

	"github.com/pion/interceptor"
	"github.com/pion/interceptor/pkg/nack"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

var fanOuts = []int{1, 10, 100}

// benchPacket is a 1200-byte VP8 packet, the size of a video packet.
func benchPacket(b *testing.B) []byte {
	payload := make([]byte, 1200)
	copy(payload, vp8KeyPayload)
	return rtpPacket(b, 0, 0, payload)
}

// heapInUse returns the live heap after a collection, in bytes.
func heapInUse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// One op: one upstream packet stored once and forwarded to every watcher.
// held-MB is the heap the relay holds for the track and its watchers.
func BenchmarkForward(b *testing.B) {
	for _, n := range fanOuts {
		b.Run(fmt.Sprintf("watchers=%d", n), func(b *testing.B) {
			before := heapInUse()
			u := benchFanOut(b, n, DownstreamConfig{PayloadType: 96, Writer: discard{}})
			benchWrite(b, u)
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/watcher")
			b.ReportMetric(float64(heapInUse()-before)/1e6, "held-MB")
			runtime.KeepAlive(u)
		})
	}
}

// One op: a watcher's NACK of one packet answered from the shared buffer.
func BenchmarkNACK(b *testing.B) {
	u, err := NewUpstream(UpstreamConfig{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000, BufferPackets: 1024})
	if err != nil {
		b.Fatal(err)
	}
	d, err := NewDownstream(DownstreamConfig{SSRC: 1, PayloadType: 96, Writer: discard{}})
	if err != nil {
		b.Fatal(err)
	}
	u.Add(d)
	raw := benchPacket(b)
	for seq := range uint16(1024) {
		binary.BigEndian.PutUint16(raw[2:], seq)
		if err := u.Write(raw); err != nil {
			b.Fatal(err)
		}
	}
	seqs := []uint16{0}
	b.ReportAllocs()
	for b.Loop() {
		seqs[0] = (seqs[0] + 1) % 1024
		if served, _ := d.HandleNACK(seqs); served != 1 {
			b.Fatal("not served")
		}
	}
}

// For comparison, what the relay replaces: pion's TrackLocalStaticRTP
// writing to each watcher's stream through pion's default NACK responder,
// which keeps its own copy of every packet for every watcher. One op: one
// packet to every watcher.
func BenchmarkPionResponder(b *testing.B) {
	for _, n := range fanOuts {
		b.Run(fmt.Sprintf("watchers=%d", n), func(b *testing.B) {
			before := heapInUse()
			factory, err := nack.NewResponderInterceptor()
			if err != nil {
				b.Fatal(err)
			}
			sink := interceptor.RTPWriterFunc(func(h *rtp.Header, p []byte, _ interceptor.Attributes) (int, error) { return len(p), nil })
			writers := make([]interceptor.RTPWriter, n)
			var closers []interceptor.Interceptor
			for i := range writers {
				ic, err := factory.NewInterceptor("")
				if err != nil {
					b.Fatal(err)
				}
				closers = append(closers, ic)
				writers[i] = ic.BindLocalStream(&interceptor.StreamInfo{SSRC: uint32(i), RTCPFeedback: []interceptor.RTCPFeedback{{Type: "nack"}}}, sink)
			}
			var pkt rtp.Packet
			if err := pkt.Unmarshal(benchPacket(b)); err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(pkt.MarshalSize()))
			b.ReportAllocs()
			for b.Loop() {
				pkt.SequenceNumber++
				for i, w := range writers {
					pkt.SSRC = uint32(i)
					if _, err := w.Write(&pkt.Header, pkt.Payload, nil); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/watcher")
			b.ReportMetric(float64(heapInUse()-before)/1e6, "held-MB")
			for _, c := range closers {
				if err := c.Close(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkForwardAbsSendTime is BenchmarkForward at 100 watchers, each
// packet stamped with its send time (abs-send-time) for each watcher, as
// browsers negotiate it for their REMB.
func BenchmarkForwardAbsSendTime(b *testing.B) {
	u := benchFanOut(b, 100, DownstreamConfig{PayloadType: 96, Writer: discard{}, AbsSendTimeID: 3})
	benchWrite(b, u)
}

// benchFanOut returns a VP8 Upstream with n Downstreams of cfg attached
// (SSRCs 0 to n-1).
func benchFanOut(b *testing.B, n int, cfg DownstreamConfig) *Upstream {
	b.Helper()
	u, err := NewUpstream(UpstreamConfig{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000, BufferPackets: 1024})
	if err != nil {
		b.Fatal(err)
	}
	for i := range n {
		cfg.SSRC = uint32(i)
		d, err := NewDownstream(cfg)
		if err != nil {
			b.Fatal(err)
		}
		u.Add(d)
	}
	return u
}

// benchWrite writes u a packet per op, its sequence number the next.
func benchWrite(b *testing.B, u *Upstream) {
	raw := benchPacket(b)
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	seq := uint16(0)
	for b.Loop() {
		seq++
		binary.BigEndian.PutUint16(raw[2:], seq)
		if err := u.Write(raw); err != nil {
			b.Fatal(err)
		}
	}
}
