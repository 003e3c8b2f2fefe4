package media

import (
	"context"
	"testing"
	"time"

	"github.com/pion/rtp"

	"github.com/broadcast-service/broadcast/broadcaster"
	"github.com/broadcast-service/broadcast/internal/sigtest"
	"github.com/broadcast-service/broadcast/internal/talkertest"
	"github.com/broadcast-service/broadcast/internal/testmedia"
	"github.com/broadcast-service/broadcast/signaling"
)

// TestSteadyCounts: light watchers of a Go talker go live, and Steady
// counts their frames and loss over a window.
func TestSteadyCounts(t *testing.T) {
	url, _ := sigtest.Start(t, signaling.Options{}, signaling.ServerOptions{})
	files := testmedia.Make(t, 2)
	talkertest.OnAir(t, broadcaster.Options{Server: url, Room: "r", Video: files.VP8, Audio: files.Opus, MaxWatchers: 5})
	p, err := NewPool(Options{Server: url, Room: "r", Loopback: true})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := p.Steady(ctx, SteadyConfig{Watchers: 3, Window: time.Second, JoinTimeout: 20 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if res.FPSMin < 5 || res.TTFFp95 <= 0 || res.Relayed != 0 {
		t.Errorf("steady: %+v", res)
	}
}

// TestFrameWhole: the first frame is the keyframe received whole; a frame
// with a gap, or not begun by a keyframe packet, is not.
func TestFrameWhole(t *testing.T) {
	// VP8: descriptor S=1, PID 0; frame tag P=0 (keyframe), start code, 640x480.
	key := []byte{0x10, 0x50, 0x00, 0x00, 0x9d, 0x01, 0x2a, 0x80, 0x02, 0xe0, 0x01}
	inter := []byte{0x10, 0x51, 0x00, 0x00}
	mid := []byte{0x00, 0x00}
	for _, tc := range []struct {
		name  string
		pkts  []rtp.Header
		loads [][]byte
		whole bool
	}{
		{"whole", []rtp.Header{{SequenceNumber: 1, Timestamp: 9}, {SequenceNumber: 2, Timestamp: 9, Marker: true}}, [][]byte{key, mid}, true},
		{"gap", []rtp.Header{{SequenceNumber: 1, Timestamp: 9}, {SequenceNumber: 3, Timestamp: 9, Marker: true}}, [][]byte{key, mid}, false},
		{"inter", []rtp.Header{{SequenceNumber: 1, Timestamp: 9}, {SequenceNumber: 2, Timestamp: 9, Marker: true}}, [][]byte{inter, mid}, false},
		{"joined mid-frame", []rtp.Header{{SequenceNumber: 2, Timestamp: 9, Marker: true}}, [][]byte{mid}, false},
	} {
		c := videoCount{mime: "video/VP8"}
		var ended, whole bool
		for i := range tc.pkts {
			c.seq.Push(tc.pkts[i].SequenceNumber)
			ended = c.frame(&tc.pkts[i], tc.loads[i])
			whole = ended && c.key && !c.gap
		}
		if !ended || whole != tc.whole {
			t.Errorf("%s: ended %v, whole %v", tc.name, ended, whole)
		}
	}
}
