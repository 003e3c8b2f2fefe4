package relay

import (
	"bytes"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// ev is one thing that happens to a watcher: a packet from upstream src,
// or (add) its move to upstream src. after advances the clock first.
type ev struct {
	src   int
	seq   uint16
	ts    uint32
	kind  byte // 'K' keyframe start, 'P' interframe start, 'C' continuation
	after time.Duration
	add   bool
	sw    bool
	now   bool
}

func add(src int) ev { return ev{src: src, add: true} }

// sw is the watcher's switch to upstream src (Downstream.Switch).
func sw(src int) ev { return ev{src: src, sw: true} }

// swNow is the watcher's switch to upstream src at once (Downstream.SwitchNow).
func swNow(src int) ev { return ev{src: src, sw: true, now: true} }

// out is a packet the watcher got: its sequence number and timestamp.
type out struct {
	seq uint16
	ts  uint32
}

func TestContinuity(t *testing.T) {
	const maxTS = 1<<32 - 1
	tests := []struct {
		name   string
		mime   string
		events []ev
		want   []out
	}{
		{"starts on a keyframe with the talker's numbers", webrtc.MimeTypeVP8, []ev{
			add(0), {seq: 100, ts: 1000, kind: 'P'}, {seq: 101, ts: 1000, kind: 'C'},
			{seq: 102, ts: 4000, kind: 'K'}, {seq: 103, ts: 4000, kind: 'C'}, {seq: 104, ts: 7000, kind: 'P'},
		}, []out{{102, 4000}, {103, 4000}, {104, 7000}}},
		{"reordered packets keep their places", webrtc.MimeTypeVP8, []ev{
			add(0), {seq: 10, kind: 'K'}, {seq: 12, ts: 3000, kind: 'P'}, {seq: 11, kind: 'C'},
			{seq: 14, ts: 3000, kind: 'C'}, {seq: 13, ts: 3000, kind: 'C'},
		}, []out{{10, 0}, {12, 3000}, {11, 0}, {14, 3000}, {13, 3000}}},
		{"a packet from before the start is dropped", webrtc.MimeTypeVP8, []ev{
			add(0), {seq: 10, ts: 3000, kind: 'K'}, {seq: 9, kind: 'C'}, {seq: 11, ts: 3000, kind: 'C'},
		}, []out{{10, 3000}, {11, 3000}}},
		{"the rest of a keyframe ahead of its first packet follows it", webrtc.MimeTypeVP8, []ev{
			add(0), {seq: 11, ts: 500, kind: 'C'}, {seq: 12, ts: 500, kind: 'C'}, {seq: 10, ts: 500, kind: 'K'}, {seq: 13, ts: 3500, kind: 'P'},
		}, []out{{10, 500}, {11, 500}, {12, 500}, {13, 3500}}},
		{"on a first start, a packet of the start frame that comes after it goes out before it", webrtc.MimeTypeVP8, []ev{
			add(0), {seq: 11, ts: 500, kind: 'K'}, {seq: 10, ts: 500, kind: 'C'}, {seq: 9, ts: 200, kind: 'C'}, {seq: 12, ts: 500, kind: 'C'},
		}, []out{{11, 500}, {10, 500}, {12, 500}}},
		{"on a restart, a packet of the start frame that comes after it is dropped", webrtc.MimeTypeVP8, []ev{
			add(0), {seq: 1, kind: 'K'}, add(1), {src: 1, seq: 11, ts: 500, kind: 'K'}, {src: 1, seq: 10, ts: 500, kind: 'C'}, {src: 1, seq: 12, ts: 500, kind: 'C'},
		}, []out{{1, 0}, {2, 1}, {3, 1}}},
		{"packets of the start frame that came while waiting go first", webrtc.MimeTypeVP8, []ev{
			add(0), {seq: 8, ts: 200, kind: 'C'}, {seq: 9, ts: 500, kind: 'C'}, {seq: 10, ts: 500, kind: 'C'}, {seq: 11, ts: 500, kind: 'K'},
		}, []out{{9, 500}, {10, 500}, {11, 500}}},
		{"a duplicate is dropped", webrtc.MimeTypeVP8, []ev{
			add(0), {seq: 10, kind: 'K'}, {seq: 11, kind: 'C'}, {seq: 11, kind: 'C'}, {seq: 10, kind: 'K'},
		}, []out{{10, 0}, {11, 0}}},
		{"sequence numbers wrap at 65535, reordered across the wrap", webrtc.MimeTypeVP8, []ev{
			add(0), {seq: 65534, ts: 100, kind: 'K'}, {seq: 65535, ts: 100, kind: 'C'}, {seq: 0, ts: 3100, kind: 'P'},
			{seq: 2, ts: 3100, kind: 'C'}, {seq: 1, ts: 3100, kind: 'C'},
		}, []out{{65534, 100}, {65535, 100}, {0, 3100}, {2, 3100}, {1, 3100}}},
		{"timestamps wrap at 2^32", webrtc.MimeTypeVP8, []ev{
			add(0), {seq: 5, ts: maxTS - 1499, kind: 'K'}, {seq: 6, ts: 1500, kind: 'P'},
		}, []out{{5, maxTS - 1499}, {6, 1500}}},
		{"a restart on another upstream continues the watcher's numbers", webrtc.MimeTypeVP8, []ev{
			add(0), {seq: 500, ts: 1000, kind: 'K'}, {seq: 501, ts: 4000, kind: 'P'},
			add(1), {src: 1, seq: 30000, ts: 777, kind: 'P'}, {seq: 502, ts: 7000, kind: 'P'},
			{src: 1, seq: 30001, ts: 3777, kind: 'K', after: 100 * time.Millisecond},
			{src: 1, seq: 30003, ts: 3777, kind: 'C'}, {src: 1, seq: 30002, ts: 3777, kind: 'C'},
			{src: 1, seq: 30004, ts: 6777, kind: 'P'},
		}, []out{{500, 1000}, {501, 4000}, {502, 13000}, {504, 13000}, {503, 13000}, {505, 16000}}},
		{"a restart across both wraps", webrtc.MimeTypeVP8, []ev{
			add(0), {seq: 65534, kind: 'K'}, {seq: 65535, kind: 'C'},
			add(1), {src: 1, seq: 7, ts: maxTS - 9, kind: 'K', after: 20 * time.Millisecond},
			{src: 1, seq: 8, ts: 2990, kind: 'P'},
		}, []out{{65534, 0}, {65535, 0}, {0, 1800}, {1, 4800}}},
		{"adding again restarts on the next keyframe", webrtc.MimeTypeVP8, []ev{
			add(0), {seq: 100, kind: 'K'}, {seq: 101, ts: 3000, kind: 'P'},
			add(0), {seq: 102, ts: 6000, kind: 'P'}, {seq: 103, ts: 9000, kind: 'K', after: time.Second},
			{seq: 104, ts: 12000, kind: 'P'},
		}, []out{{100, 0}, {101, 3000}, {102, 93000}, {103, 96000}}},
		{"a switch forwards the current layer until the next one's keyframe, then continues the numbers on it", webrtc.MimeTypeVP8, []ev{
			add(0), {seq: 500, ts: 1000, kind: 'K'}, {seq: 501, ts: 4000, kind: 'P'},
			sw(1), {src: 1, seq: 30000, ts: 777, kind: 'P'}, {seq: 502, ts: 7000, kind: 'P'},
			{src: 1, seq: 30001, ts: 3777, kind: 'K', after: 100 * time.Millisecond},
			{seq: 503, ts: 10000, kind: 'P'},
			{src: 1, seq: 30002, ts: 3777, kind: 'C'}, {src: 1, seq: 30003, ts: 6777, kind: 'P'},
		}, []out{{500, 1000}, {501, 4000}, {502, 7000}, {503, 16000}, {504, 16000}, {505, 19000}}},
		{"a switch at once forwards nothing more of the current layer, and continues the numbers on the next one's keyframe", webrtc.MimeTypeVP8, []ev{
			add(0), {seq: 500, ts: 1000, kind: 'K'}, {seq: 501, ts: 4000, kind: 'P'},
			swNow(1), {src: 1, seq: 30000, ts: 777, kind: 'P'}, {seq: 502, ts: 7000, kind: 'P'},
			{src: 1, seq: 30001, ts: 3777, kind: 'K', after: 100 * time.Millisecond},
			{seq: 503, ts: 10000, kind: 'P'},
			{src: 1, seq: 30002, ts: 3777, kind: 'C'}, {src: 1, seq: 30003, ts: 6777, kind: 'P'},
		}, []out{{500, 1000}, {501, 4000}, {502, 13000}, {503, 13000}, {504, 16000}}},
		{"switching back before the keyframe ends the hold of a switch at once", webrtc.MimeTypeVP8, []ev{
			add(0), {seq: 500, ts: 1000, kind: 'K'}, swNow(1), {seq: 501, ts: 4000, kind: 'P'}, sw(0),
			{src: 1, seq: 30001, ts: 3777, kind: 'K'}, {seq: 502, ts: 7000, kind: 'P'},
		}, []out{{500, 1000}, {502, 7000}}},
		{"switching back before the keyframe stays on the layer", webrtc.MimeTypeVP8, []ev{
			add(0), {seq: 500, ts: 1000, kind: 'K'}, sw(1), sw(0),
			{src: 1, seq: 30001, ts: 3777, kind: 'K'}, {seq: 501, ts: 4000, kind: 'P'},
		}, []out{{500, 1000}, {501, 4000}}},
		{"a later switch replaces an earlier one", webrtc.MimeTypeVP8, []ev{
			add(0), {seq: 500, ts: 1000, kind: 'K'}, sw(1), sw(2),
			{src: 1, seq: 30001, ts: 3777, kind: 'K'}, {seq: 501, ts: 4000, kind: 'P'},
			{src: 2, seq: 9, ts: 50, kind: 'K', after: 10 * time.Millisecond}, {seq: 502, ts: 7000, kind: 'P'},
		}, []out{{500, 1000}, {501, 4000}, {502, 4900}}},
		{"a switch while waiting starts on the new layer's keyframe", webrtc.MimeTypeVP8, []ev{
			add(0), {seq: 500, ts: 1000, kind: 'P'}, sw(1), {seq: 501, ts: 4000, kind: 'K'},
			{src: 1, seq: 30001, ts: 3777, kind: 'K'},
		}, []out{{30001, 3777}}},
		{"audio starts on any packet", webrtc.MimeTypeOpus, []ev{
			{seq: 6, ts: 0, kind: 'C'}, add(0), {seq: 7, ts: 960, kind: 'C'}, {seq: 9, ts: 2880, kind: 'C'}, {seq: 8, ts: 1920, kind: 'C'},
		}, []out{{7, 960}, {9, 2880}, {8, 1920}}},
		{"audio restarts a tick on at least", webrtc.MimeTypeOpus, []ev{
			add(0), {seq: 7, ts: 960, kind: 'C'}, add(1), {src: 1, seq: 100, ts: 5, kind: 'C'},
		}, []out{{7, 960}, {8, 961}}},
	}
	payloads := map[byte][]byte{'K': vp8KeyPayload, 'P': vp8InterPayload, 'C': vp8ContPayload}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := newClock()
			ups := make([]*Upstream, 3)
			for i := range ups {
				ups[i], _ = upstreamFor(t, tt.mime, clk, 0)
			}
			d, w := downstreamFor(t, 0xabcd)
			for _, e := range tt.events {
				clk.Advance(e.after)
				if e.add {
					ups[e.src].Add(d)
					continue
				}
				if e.sw && e.now {
					d.SwitchNow(ups[e.src])
					continue
				}
				if e.sw {
					d.Switch(ups[e.src])
					continue
				}
				if err := ups[e.src].Write(rtpPacket(t, e.seq, e.ts, payloads[e.kind])); err != nil {
					t.Fatal(err)
				}
			}
			var got []out
			for _, p := range w.take() {
				if p.hdr.SSRC != 0xabcd || p.hdr.PayloadType != 100 {
					t.Errorf("packet %d: SSRC %x, payload type %d", p.hdr.SequenceNumber, p.hdr.SSRC, p.hdr.PayloadType)
				}
				got = append(got, out{p.hdr.SequenceNumber, p.hdr.Timestamp})
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("got %v\nwant %v", got, tt.want)
			}
			if n := d.Counters.Packets.Load(); n != uint64(len(tt.want)) {
				t.Errorf("Packets = %d, want %d", n, len(tt.want))
			}
		})
	}
}

// extWriter sets a header extension of its own, as pion's TWCC
// interceptor does, before recording.
type extWriter struct{ fakeWriter }

func (w *extWriter) WriteRTP(h *rtp.Header, payload []byte) (int, error) {
	if err := h.SetExtension(5, []byte{byte(h.SequenceNumber)}); err != nil {
		return 0, err
	}
	return w.fakeWriter.WriteRTP(h, payload)
}

// The payload, marker and padding go out as they came; the talker's
// header extensions do not, and the extension one watcher's writer sets
// reaches no other watcher.
func TestForwardKeepsPacket(t *testing.T) {
	clk := newClock()
	u, _ := upstreamFor(t, webrtc.MimeTypeVP8, clk, 0)
	a, wa := downstreamFor(t, 7)
	wb := &extWriter{}
	b, err := NewDownstream(DownstreamConfig{SSRC: 8, PayloadType: 101, Writer: wb})
	if err != nil {
		t.Fatal(err)
	}
	u.Add(b)
	u.Add(a)
	p := rtp.Packet{Header: rtp.Header{Version: 2, Marker: true, Padding: true, PaddingSize: 4, SequenceNumber: 1, Timestamp: 2, SSRC: 1234}, Payload: vp8KeyPayload}
	if err := p.SetExtension(3, []byte{0xee}); err != nil {
		t.Fatal(err)
	}
	if err := u.WriteRTP(&p); err != nil {
		t.Fatal(err)
	}
	b.HandleNACK([]uint16{1})
	got := append(wa.take(), wb.take()...)
	if len(got) != 3 {
		t.Fatalf("%d packets, want 3", len(got))
	}
	for _, g := range got {
		h := g.hdr
		if !h.Marker || !h.Padding || h.PaddingSize != 4 || !bytes.Equal(g.payload, vp8KeyPayload) || h.GetExtension(3) != nil {
			t.Errorf("SSRC %d got %+v", h.SSRC, g)
		}
		if own := h.GetExtension(5); (h.SSRC == 8) != (own != nil) {
			t.Errorf("SSRC %d: extension 5 %x", h.SSRC, own)
		}
	}
}

func TestStates(t *testing.T) {
	clk := newClock()
	u, _ := upstreamFor(t, webrtc.MimeTypeVP8, clk, 0)
	d, w := downstreamFor(t, 7)
	if s := d.State(); s != Idle {
		t.Fatalf("new: %v", s)
	}
	u.Add(d)
	if err := u.Write(rtpPacket(t, 1, 0, vp8InterPayload)); err != nil {
		t.Fatal(err)
	}
	if s := d.State(); s != Waiting || d.Counters.DroppedWaiting.Load() != 1 {
		t.Fatalf("after an interframe: %v, %d dropped", s, d.Counters.DroppedWaiting.Load())
	}
	if err := u.Write(rtpPacket(t, 2, 3000, vp8KeyPayload)); err != nil {
		t.Fatal(err)
	}
	if s := d.State(); s != Forwarding || d.Counters.Starts.Load() != 1 {
		t.Fatalf("after a keyframe: %v, %d starts", s, d.Counters.Starts.Load())
	}
	u.Remove(d)
	if err := u.Write(rtpPacket(t, 3, 6000, vp8KeyPayload)); err != nil {
		t.Fatal(err)
	}
	if s := d.State(); s != Idle || u.Watchers() != 0 || len(w.take()) != 1 {
		t.Fatalf("after Remove: %v, %d watchers", s, u.Watchers())
	}
	// A writer's error is counted; the sequence number is used all the same.
	u.Add(d)
	w.fail = true
	if err := u.Write(rtpPacket(t, 4, 9000, vp8KeyPayload)); err != nil {
		t.Fatal(err)
	}
	w.fail = false
	if err := u.Write(rtpPacket(t, 5, 9000, vp8ContPayload)); err != nil {
		t.Fatal(err)
	}
	got := w.take()
	if d.Counters.WriteErrors.Load() != 1 || len(got) != 1 || got[0].hdr.SequenceNumber != 4 {
		t.Fatalf("after a refused write: %d errors, %+v", d.Counters.WriteErrors.Load(), got)
	}
}

func TestConfigErrors(t *testing.T) {
	for _, tt := range []struct {
		cfg UpstreamConfig
		err error
	}{
		{UpstreamConfig{MimeType: "video/AV1", ClockRate: 90000}, ErrUnsupportedCodec},
		{UpstreamConfig{MimeType: "text/plain", ClockRate: 90000}, ErrUnsupportedCodec},
		{UpstreamConfig{MimeType: "video/vp8"}, ErrBadConfig},
		{UpstreamConfig{MimeType: "video/VP8", ClockRate: 90000, BufferPackets: 100}, ErrBadConfig},
		{UpstreamConfig{MimeType: "video/VP8", ClockRate: 90000, BufferPackets: 8}, ErrBadConfig},
		{UpstreamConfig{MimeType: "video/h264", ClockRate: 90000, BufferPackets: 64}, nil},
		{UpstreamConfig{MimeType: "audio/opus", ClockRate: 48000}, nil},
	} {
		if _, err := NewUpstream(tt.cfg); !errors.Is(err, tt.err) || (tt.err == nil) != (err == nil) {
			t.Errorf("NewUpstream(%+v) = %v, want %v", tt.cfg, err, tt.err)
		}
	}
	if _, err := NewDownstream(DownstreamConfig{SSRC: 1, PayloadType: 96}); !errors.Is(err, ErrBadConfig) {
		t.Errorf("no writer: %v", err)
	}
	if _, err := NewDownstream(DownstreamConfig{SSRC: 1, PayloadType: 128, Writer: discard{}}); !errors.Is(err, ErrBadConfig) {
		t.Errorf("payload type 128: %v", err)
	}
	u, _ := upstreamFor(t, webrtc.MimeTypeVP8, newClock(), 0)
	for _, raw := range [][]byte{{0x80, 0, 0}, make([]byte, 12), {0x90, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0}} {
		if err := u.Write(raw); !errors.Is(err, ErrBadPacket) {
			t.Errorf("Write(%x) = %v, want ErrBadPacket", raw, err)
		}
	}
	if n := u.Counters.Invalid.Load(); n != 3 {
		t.Errorf("Invalid = %d", n)
	}
}

// With abs-send-time negotiated, every packet a watcher gets, forwarded or
// sent again, carries its send time: 24 bits of seconds in 6.18 fixed
// point, now; without, none.
func TestAbsSendTime(t *testing.T) {
	clk := newClock()
	u, _ := upstreamFor(t, webrtc.MimeTypeVP8, clk, 0)
	w := &fakeWriter{}
	d, err := NewDownstream(DownstreamConfig{SSRC: 7, PayloadType: 96, Writer: w, AbsSendTimeID: 3})
	if err != nil {
		t.Fatal(err)
	}
	plain, pw := downstreamFor(t, 8)
	u.Add(d)
	u.Add(plain)
	if err := u.Write(rtpPacket(t, 1, 0, vp8KeyPayload)); err != nil {
		t.Fatal(err)
	}
	d.HandleNACK([]uint16{1})
	got := w.take()
	if len(got) != 2 {
		t.Fatalf("%d packets, want 2", len(got))
	}
	now := uint32(ntpTime(time.Now())>>14) & 0xffffff
	for _, p := range got {
		ext := p.hdr.GetExtension(3)
		if len(ext) != 3 {
			t.Fatalf("abs-send-time extension %x", ext)
		}
		at := uint32(ext[0])<<16 | uint32(ext[1])<<8 | uint32(ext[2])
		if diff := (now - at) & 0xffffff; diff > 1<<18 { // over a second ago (or ahead)
			t.Errorf("abs-send-time %06x, now %06x", at, now)
		}
	}
	for _, p := range pw.take() {
		if p.hdr.GetExtension(3) != nil {
			t.Errorf("a watcher without abs-send-time got one")
		}
	}
	if _, err := NewDownstream(DownstreamConfig{Writer: w, AbsSendTimeID: 15}); !errors.Is(err, ErrBadConfig) {
		t.Errorf("ID 15: %v, want ErrBadConfig", err)
	}
}
