package relay

import (
	"errors"
	"log/slog"
	"testing"

	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v4"

	"github.com/broadcast-service/broadcast/relay/simulcast"
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

// Any RTCP a watcher sends and any layer it names leave its simulcast
// choice on one of the track's layers or paused, never past them; a name
// that is no layer is refused with ErrBadLayer and changes nothing.
func FuzzLayerChoice(f *testing.F) {
	const ssrc = 0x5eed
	seed := func(pin string, pkts ...rtcp.Packet) {
		b, err := rtcp.Marshal(pkts)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, pin)
	}
	seed("auto", &rtcp.ReceiverEstimatedMaximumBitrate{Bitrate: 400_000, SSRCs: []uint32{ssrc}})
	seed("low", &rtcp.ReceiverEstimatedMaximumBitrate{Bitrate: 1e20}, &rtcp.ReceiverReport{Reports: []rtcp.ReceptionReport{{SSRC: ssrc, FractionLost: 255}}})
	seed("bogus", &rtcp.ReceiverEstimatedMaximumBitrate{Bitrate: 0})
	f.Fuzz(func(t *testing.T, b []byte, pin string) {
		pkts, err := rtcp.Unmarshal(b)
		if err != nil {
			return
		}
		l := newLayers([]string{"f", "q", "h"})
		for _, rid := range l.rids {
			u, _ := upstreamFor(t, webrtc.MimeTypeVP8, newClock(), 16)
			l.set(rid, u)
		}
		w := &watcher{}
		id := "w"
		w.id.Store(&id)
		wt := &watcherTrack{room: &Room{log: slog.New(slog.DiscardHandler)}, w: w, from: &talkerTrack{kind: webrtc.RTPCodecTypeVideo, layers: l}}
		c, err := newLayerChoice(wt)
		if err != nil {
			t.Fatal(err)
		}
		told := 0
		c.tell = func(layer, pinned int) {
			told++
			if layer < simulcast.Paused || layer >= 3 || pinned < -1 || pinned >= 3 {
				t.Fatalf("told layer %d, pin %d of 3", layer, pinned)
			}
		}
		c.handleRTCP(pkts, ssrc)
		before := wt.layer
		if err := c.pin(pin); err != nil {
			if !errors.Is(err, ErrBadLayer) || wt.layer != before {
				t.Fatalf("pin %q: %v, layer %d from %d", pin, err, wt.layer, before)
			}
		} else if told == 0 {
			t.Fatalf("pin %q: the watcher was not told", pin)
		}
		c.handleRTCP(pkts, ssrc)
		if wt.layer < simulcast.Paused || wt.layer >= 3 {
			t.Fatalf("layer %d of 3", wt.layer)
		}
	})
}
