package relay

import (
	"encoding/binary"
	"sync"
	"testing"

	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v4"
)

// The talker's writer, watchers' RTCP, sender reports and watchers moving
// between two tracks all at once: the race detector watches, and each
// watcher's writer was given exactly what its counters say.
func TestConcurrentUse(t *testing.T) {
	clk := newClock()
	ups := [2]*Upstream{}
	for i := range ups {
		ups[i], _ = upstreamFor(t, webrtc.MimeTypeVP8, clk, 64)
	}
	ds := make([]*Downstream, 4)
	ws := make([]*fakeWriter, len(ds))
	for i := range ds {
		ds[i], ws[i] = downstreamFor(t, uint32(i+1))
		ups[0].Add(ds[i])
	}
	const packets = 2000
	var wg sync.WaitGroup
	for i := range ups {
		wg.Go(func() {
			for seq := range uint16(packets) {
				payload := vp8ContPayload
				if seq%50 == 0 {
					payload = vp8KeyPayload
				}
				if err := ups[i].Write(rtpPacket(t, seq, uint32(seq/5)*3000, payload)); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	for i, d := range ds {
		wg.Go(func() {
			for n := range packets / 4 {
				seq := uint16(n * 4)
				d.HandleRTCP([]rtcp.Packet{
					&rtcp.TransportLayerNack{MediaSSRC: d.SSRC(), Nacks: rtcp.NackPairsFromSequenceNumbers([]uint16{seq, seq - 3})},
					&rtcp.PictureLossIndication{MediaSSRC: d.SSRC()},
				})
				d.SenderReport()
				if n%100 == 0 {
					ups[(n/100+i)%2].Add(d)
				}
			}
		})
	}
	wg.Wait()
	for i, d := range ds {
		c := &d.Counters
		if got, want := uint64(len(ws[i].take())), c.Packets.Load()+c.NACKsServed.Load(); got != want {
			t.Errorf("watcher %d: %d packets written, counted %d", i, got, want)
		}
	}
}

// Fanning a packet out to watchers allocates nothing: no copy per watcher.
func TestForwardAllocs(t *testing.T) {
	u, _ := upstreamFor(t, webrtc.MimeTypeVP8, newClock(), 0)
	for i := range 10 {
		d, err := NewDownstream(DownstreamConfig{SSRC: uint32(i), PayloadType: 96, Writer: discard{}})
		if err != nil {
			t.Fatal(err)
		}
		u.Add(d)
	}
	raw := rtpPacket(t, 0, 0, vp8KeyPayload)
	seq := uint16(0)
	allocs := testing.AllocsPerRun(1000, func() {
		seq++
		binary.BigEndian.PutUint16(raw[2:], seq)
		if err := u.Write(raw); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocations a packet to 10 watchers", allocs)
	}
}
