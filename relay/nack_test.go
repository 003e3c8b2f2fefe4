package relay

import (
	"bytes"
	"slices"
	"testing"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v4"
)

// Two watchers with different offsets NACK the same upstream packets by
// their own numbers; both are answered from the one shared buffer.
func TestNACK(t *testing.T) {
	clk := newClock()
	// A buffer of 16 packets: upstream packets 1000 to 1019 leave 1004 to
	// 1019 in it.
	u, _ := upstreamFor(t, webrtc.MimeTypeVP8, clk, 16)
	other, _ := upstreamFor(t, webrtc.MimeTypeVP8, clk, 16)
	a, wa := downstreamFor(t, 0xa)
	b, wb := downstreamFor(t, 0xb)
	payload := func(seq uint16) []byte { return append(slices.Clone(vp8KeyPayload), byte(seq)) }

	// a starts on the talker's numbers; b was forwarding another track up
	// to its number 65534 and restarts on this one: its numbers cross the
	// wrap, and its timestamps are offset.
	other.Add(b)
	if err := other.Write(rtpPacket(t, 65534, 0, vp8KeyPayload)); err != nil {
		t.Fatal(err)
	}
	u.Add(a)
	u.Add(b)
	c, wc := downstreamFor(t, 0xc) // starts on upstream 1010
	for seq := uint16(1000); seq < 1020; seq++ {
		if seq == 1010 {
			u.Add(c)
		}
		clk.Advance(10 * time.Millisecond)
		if err := u.Write(rtpPacket(t, seq, uint32(seq)*100, payload(seq))); err != nil {
			t.Fatal(err)
		}
	}
	if err := other.Write(rtpPacket(t, 65535, 0, vp8ContPayload)); err != nil { // b no longer watches other
		t.Fatal(err)
	}
	wa.take()
	if n := len(wc.take()); n != 10 {
		t.Fatalf("c got %d packets, want 10", n)
	}
	sentB := wb.take()
	// b's packets: its 65534 from the other track, then 65535, 0, 1, ...
	// for upstream 1000, 1001, ...
	if len(sentB) != 21 || sentB[1].hdr.SequenceNumber != 65535 || sentB[2].hdr.SequenceNumber != 0 {
		t.Fatalf("b got %d packets, first numbers %d %d", len(sentB), sentB[1].hdr.SequenceNumber, sentB[2].hdr.SequenceNumber)
	}
	tsB := func(seq uint16) uint32 { return sentB[int(seq)-999].hdr.Timestamp } // b's timestamp of upstream seq

	tests := []struct {
		name   string
		d      *Downstream
		w      *fakeWriter
		nack   []uint16
		want   []uint16 // upstream numbers sent again, in order
		missed int
	}{
		{"a: in the buffer", a, wa, []uint16{1005, 1019, 1010}, []uint16{1005, 1019, 1010}, 0},
		{"a: too old, never sent, not yet sent", a, wa, []uint16{1003, 999, 1020, 1004}, []uint16{1004}, 3},
		{"b: across the wrap", b, wb, []uint16{4, 65535, 3, 16}, []uint16{1005, 1004, 1017}, 1},
		{"b: its number from the other track", b, wb, []uint16{65534}, nil, 1},
		{"c: packets from before its start, still in the buffer", c, wc, []uint16{1006, 1009, 1010}, []uint16{1010}, 2},
	}
	for _, tt := range tests {
		served, missed := tt.d.HandleNACK(tt.nack)
		got := tt.w.take()
		if served != len(tt.want) || missed != tt.missed || len(got) != len(tt.want) {
			t.Errorf("%s: served %d, missed %d, sent %d; want %d, %d", tt.name, served, missed, len(got), len(tt.want), tt.missed)
			continue
		}
		for i, p := range got {
			up := tt.want[i]
			if p.hdr.SSRC != tt.d.SSRC() || p.hdr.PayloadType != 100 || !bytes.Equal(p.payload, payload(up)) {
				t.Errorf("%s: packet %d: SSRC %x, payload type %d, payload %x", tt.name, i, p.hdr.SSRC, p.hdr.PayloadType, p.payload)
			}
			wantSeq, wantTS := up, uint32(up)*100
			if tt.d == b {
				wantSeq, wantTS = up-1001, tsB(up) // 1001 + 65535 wraps to 0
			}
			if p.hdr.SequenceNumber != wantSeq || p.hdr.Timestamp != wantTS {
				t.Errorf("%s: packet %d: number %d, timestamp %d; want %d, %d", tt.name, i, p.hdr.SequenceNumber, p.hdr.Timestamp, wantSeq, wantTS)
			}
		}
	}
	if s, m := a.Counters.NACKsServed.Load(), a.Counters.NACKsMissed.Load(); s != 4 || m != 3 {
		t.Errorf("a: counted %d served, %d missed", s, m)
	}

	// Through RTCP: a NACK for a's SSRC is answered, one for another SSRC
	// is not; while idle, nothing is.
	clk.Advance(resendInterval) // 1010 was sent again just now
	served, missed := a.HandleRTCP([]rtcp.Packet{
		&rtcp.TransportLayerNack{MediaSSRC: 0xa, Nacks: rtcp.NackPairsFromSequenceNumbers([]uint16{1010, 1012})},
		&rtcp.TransportLayerNack{MediaSSRC: 0xb, Nacks: rtcp.NackPairsFromSequenceNumbers([]uint16{1011})},
	})
	if got := wa.take(); served != 2 || missed != 0 || len(got) != 2 || got[1].hdr.SequenceNumber != 1012 {
		t.Errorf("RTCP NACK: served %d, missed %d, sent %d", served, missed, len(got))
	}
	u.Remove(a)
	if served, missed := a.HandleNACK([]uint16{1010}); served != 0 || missed != 1 || len(wa.take()) != 0 {
		t.Errorf("idle: served %d, missed %d", served, missed)
	}
}

// A NACK of thousands of numbers is answered up to a bound.
func TestNACKBounded(t *testing.T) {
	u, _ := upstreamFor(t, webrtc.MimeTypeVP8, newClock(), 0)
	d, _ := downstreamFor(t, 1)
	u.Add(d)
	if err := u.Write(rtpPacket(t, 1, 0, vp8KeyPayload)); err != nil {
		t.Fatal(err)
	}
	pairs := make([]rtcp.NackPair, 1000)
	for i := range pairs {
		pairs[i] = rtcp.NackPair{PacketID: uint16(i * 17), LostPackets: 0xffff}
	}
	served, missed := d.HandleRTCP([]rtcp.Packet{&rtcp.TransportLayerNack{MediaSSRC: 1, Nacks: pairs}})
	if served+missed != maxNACKs {
		t.Fatalf("served %d, missed %d; want %d in all", served, missed, maxNACKs)
	}
}
