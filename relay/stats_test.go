package relay

import (
	"testing"

	"github.com/pion/webrtc/v4"
)

// trackWriter is a fakeWriter as pion's TrackLocalWriter.
type trackWriter struct{ *fakeWriter }

func (trackWriter) Write(b []byte) (int, error) { return len(b), nil }

// A room's Packets and Bytes count what is forwarded, not the NACKed
// packets sent again.
func TestStatsLeaveOutRetransmissions(t *testing.T) {
	r := &Room{}
	u, _ := upstreamFor(t, webrtc.MimeTypeOpus, newClock(), 0)
	w := &fakeWriter{}
	l := newLayers(nil)
	l.set("", u)
	wt := &watcherTrack{room: r, from: &talkerTrack{kind: webrtc.RTPCodecTypeAudio, layers: l}}
	d, err := NewDownstream(DownstreamConfig{SSRC: 0xa, PayloadType: 111, Writer: &countingWriter{w: trackWriter{w}, t: wt}})
	if err != nil {
		t.Fatal(err)
	}
	u.Add(d)
	for seq := uint16(1); seq <= 3; seq++ {
		if err := u.Write(rtpPacket(t, seq, 0, []byte{1, 2, 3, 4})); err != nil {
			t.Fatal(err)
		}
	}
	if served, _ := d.HandleNACK([]uint16{2}); served != 1 {
		t.Fatalf("served %d, want 1", served)
	}
	if n := len(w.take()); n != 4 {
		t.Fatalf("wrote %d packets, want 4", n)
	}
	if p, b := r.stats.packets.Load(), r.stats.bytes.Load(); p != 3 || b != 12 {
		t.Errorf("counted %d packets, %d bytes; want 3, 12", p, b)
	}
}
