package relay

import (
	"testing"

	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v4"
)

// Any RTCP a watcher sends, parsed as pion parses it, is handled without a
// panic: every NACKed number of the watcher's SSRC is served or missed (up
// to the bound), what is sent again carries the watcher's SSRC and payload
// type and a number it was sent before, and a PLI or FIR costs at most one
// keyframe request.
func FuzzHandleRTCP(f *testing.F) {
	const ssrc = 0x5eed
	seed := func(pkts ...rtcp.Packet) {
		b, err := rtcp.Marshal(pkts)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	seed(&rtcp.PictureLossIndication{SenderSSRC: 1, MediaSSRC: ssrc})
	seed(&rtcp.FullIntraRequest{SenderSSRC: 1, FIR: []rtcp.FIREntry{{SSRC: ssrc, SequenceNumber: 3}}})
	seed(&rtcp.TransportLayerNack{SenderSSRC: 1, MediaSSRC: ssrc, Nacks: []rtcp.NackPair{{PacketID: 10, LostPackets: 0x8001}, {PacketID: 65530, LostPackets: 0xffff}}})
	seed(&rtcp.ReceiverReport{SSRC: 1, Reports: []rtcp.ReceptionReport{{SSRC: ssrc, LastSequenceNumber: 20}}},
		&rtcp.TransportLayerNack{SenderSSRC: 1, MediaSSRC: ssrc, Nacks: []rtcp.NackPair{{PacketID: 5}}},
		&rtcp.PictureLossIndication{SenderSSRC: 1, MediaSSRC: ssrc})
	f.Fuzz(func(t *testing.T, b []byte) {
		pkts, err := rtcp.Unmarshal(b)
		if err != nil {
			return
		}
		clk := newClock()
		u, requests := upstreamFor(t, webrtc.MimeTypeVP8, clk, 16)
		d, w := downstreamFor(t, ssrc)
		u.Add(d)
		for seq := uint16(65525); seq != 20; seq++ { // 31 packets, 16 kept
			payload := vp8ContPayload
			if seq == 65530 {
				payload = vp8KeyPayload
			}
			if err := u.Write(rtpPacket(t, seq, 0, payload)); err != nil {
				t.Fatal(err)
			}
		}
		sentBefore := map[uint16]bool{}
		for _, p := range w.take() {
			sentBefore[p.hdr.SequenceNumber] = true
		}
		nacked := 0
		for _, p := range pkts {
			if n, ok := p.(*rtcp.TransportLayerNack); ok && n.MediaSSRC == ssrc {
				for _, pair := range n.Nacks {
					nacked += len(pair.PacketList())
				}
			}
		}
		*requests = 0
		clk.Advance(DefaultKeyframeInterval)
		served, missed := d.HandleRTCP(pkts)
		if served+missed != min(nacked, maxNACKs) {
			t.Fatalf("served %d, missed %d of %d", served, missed, nacked)
		}
		again := w.take()
		if len(again) != served {
			t.Fatalf("served %d, sent %d", served, len(again))
		}
		for _, p := range again {
			if p.hdr.SSRC != ssrc || p.hdr.PayloadType != 100 || !sentBefore[p.hdr.SequenceNumber] {
				t.Fatalf("sent again %+v", p.hdr)
			}
		}
		if *requests > 1 {
			t.Fatalf("%d keyframe requests", *requests)
		}
	})
}
