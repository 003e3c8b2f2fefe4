package relay

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v4"

	"github.com/broadcast-service/broadcast/internal/testmedia"
	"github.com/broadcast-service/broadcast/protocol"
	"github.com/broadcast-service/broadcast/relay/simulcast"
)

// simulcastWidths are the test talker's layers' widths, lowest first.
var simulcastWidths = []int{160, 320, 640}

// newSimulcastRig is a rig whose talker sends the relay three simulcast
// layers (rids q, h, f) of the same test card at 160x120, 320x240 and
// 640x480, keyframes at the same places.
func newSimulcastRig(t *testing.T) *rig {
	t.Helper()
	var frames [][][]byte
	for _, w := range simulcastWidths {
		frames = append(frames, testmedia.IVFFrames(t, testmedia.MakeSized(t, 2, w, w*3/4).VP8))
	}
	return newRigSetUp(t, Config{}, func(tt *testTalker) {
		for _, rid := range []string{"q", "h", "f"} {
			l, err := webrtc.NewTrackLocalStaticSample(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8}, "video", "talker", webrtc.WithRTPStreamID(rid))
			if err != nil {
				t.Fatal(err)
			}
			tt.layers = append(tt.layers, l)
		}
		tt.layerFrames = frames
	})
}

// layerMsg waits for the relay's layer message that ok accepts, and fails
// the test after d.
func (w *testWatcher) layerMsg(t *testing.T, d time.Duration, what string, ok func(protocol.Message) bool) protocol.Message {
	t.Helper()
	timeout := time.After(d)
	for {
		select {
		case m := <-w.layerMsgs:
			if ok(m) {
				return m
			}
		case <-timeout:
			t.Fatalf("no layer message %s within %v", what, d)
		}
	}
}

// remb sends the relay a REMB of bitrate bits/s for the watcher's video.
func (w *testWatcher) remb(bitrate float32) error {
	w.mu.Lock()
	ssrc := w.trackSSRC
	w.mu.Unlock()
	return w.peerConnection().WriteRTCP([]rtcp.Packet{&rtcp.ReceiverEstimatedMaximumBitrate{Bitrate: bitrate, SSRCs: []uint32{ssrc}}})
}

// rembEvery sends the relay a REMB of rate() bits/s every interval until
// the function it returns is called, which waits for the last.
func (w *testWatcher) rembEvery(interval time.Duration, rate func() float32) (stop func()) {
	quit, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(interval)
		defer tick.Stop()
		for {
			select {
			case <-quit:
				return
			case <-tick.C:
				_ = w.remb(rate())
			}
		}
	}()
	return func() { close(quit); <-done }
}

// keyframeWidths returns the widths of the keyframes received so far.
func (w *testWatcher) keyframeWidths() []int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.widths)
}

// counts returns the video and audio packets received so far.
func (w *testWatcher) counts() (video, audio int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.video, w.audio
}

// Simulcast through the relay: a watcher starts on the highest layer; a
// pin moves it to the lowest at a keyframe of that layer, its sequence
// numbers and timestamps running on; a REMB below the lowest layer's need
// pauses its video while its audio goes on, and the video comes back by
// itself when the estimate does. The watcher is told each move.
func TestSimulcastSwitchesPinsAndPauses(t *testing.T) {
	r := newSimulcastRig(t)
	w := r.watch("w1")
	current := func(name string) func(protocol.Message) bool {
		return func(m protocol.Message) bool { return m.Current == name && !m.Paused }
	}
	first := w.layerMsg(t, 20*time.Second, "on the high layer", current(protocol.LayerHigh))
	if want := []string{"low", "medium", "high"}; fmt.Sprint(first.Layers) != fmt.Sprint(want) || first.Pin != protocol.LayerAuto {
		t.Fatalf("first layer message %+v: want layers %v, pin auto", first, want)
	}
	eventually(t, 10*time.Second, "a 640-pixel keyframe", func() bool { return slices.Contains(w.keyframeWidths(), 640) })

	if err := w.m.Send(protocol.Layer{Head: protocol.Head{Type: protocol.TypeLayer, Sendto: "relay"}, Pin: protocol.LayerLow}); err != nil {
		t.Fatal(err)
	}
	if m := w.layerMsg(t, 5*time.Second, "pinned low", current(protocol.LayerLow)); m.Pin != protocol.LayerLow {
		t.Fatalf("after the pin: %+v, want pin low", m)
	}
	eventually(t, 10*time.Second, "a 160-pixel keyframe after the switch", func() bool {
		ws := w.keyframeWidths()
		return len(ws) > 0 && ws[len(ws)-1] == 160
	})
	widths := w.keyframeWidths()
	if i := slices.Index(widths, 160); i < 0 || slices.Contains(widths[i:], 640) || slices.Contains(widths[i:], 320) {
		t.Fatalf("keyframe widths %v: want 640s then 160s only", widths)
	}

	// Unpinned, with an estimate falling to 30 kbit/s: not even the
	// audio's 48, and under what the watcher is sent (a receiver's
	// estimate rising from low is its start, not congestion: the REMBs
	// fall here, a quarter second apart).
	if err := w.m.Send(protocol.Layer{Head: protocol.Head{Type: protocol.TypeLayer, Sendto: "relay"}, Pin: protocol.LayerAuto}); err != nil {
		t.Fatal(err)
	}
	rate := float32(41_000)
	stopFalling := w.rembEvery(250*time.Millisecond, func() float32 { rate = max(rate-1000, 20_000); return rate })
	w.layerMsg(t, 10*time.Second, "paused", func(m protocol.Message) bool { return m.Paused && m.Current == "" })
	stopFalling()
	// Packets written before the pause may still be on the way: the
	// count is taken once a frame's worth of time has passed with audio.
	_, a0 := w.counts()
	eventually(t, 5*time.Second, "audio", func() bool { _, a := w.counts(); return a > a0+10 })
	v1, a1 := w.counts()
	eventually(t, 5*time.Second, "more audio", func() bool { _, a := w.counts(); return a > a1+25 })
	if v2, _ := w.counts(); v2 != v1 {
		t.Fatalf("paused: %d video packets came during 25 audio packets, want none", v2-v1)
	}

	// The estimate comes back: the video resumes by itself, up from the
	// lowest layer.
	defer w.rembEvery(250*time.Millisecond, func() float32 { return 20_000_000 })()
	w.layerMsg(t, 10*time.Second, "resumed on the low layer", current(protocol.LayerLow))
	eventually(t, 10*time.Second, "video again", func() bool { v, _ := w.counts(); return v > v1+30 })
	w.layerMsg(t, 10*time.Second, "up to medium", current(protocol.LayerMedium))

	if n := w.holes(50); n != 0 {
		t.Errorf("%d sequence numbers missing across the switches and the pause", n)
	}
	w.mu.Lock()
	back := w.tsBack
	w.mu.Unlock()
	if back != 0 {
		t.Errorf("%d packets' timestamps went back across the switches", back)
	}
}

// A watcher's video paused by a REMB that fell to 20 kbit/s resumes by a
// probe, and keeps the low layer after the probe ends, while its REMB,
// left low by the pause (the video that fed the estimator stopped), climbs
// back only at the estimator's ramp and the loss stays nil.
func TestResumesOnTheEstimateAPauseLeft(t *testing.T) {
	r := newSimulcastRig(t)
	w := r.watch("w1")
	w.layerMsg(t, 20*time.Second, "on the high layer", func(m protocol.Message) bool { return m.Current == protocol.LayerHigh })
	var mu sync.Mutex
	rate, falling := float32(2_000_000), true
	defer w.rembEvery(250*time.Millisecond, func() float32 {
		mu.Lock()
		defer mu.Unlock()
		if falling {
			rate = max(rate/2, 20_000)
			falling = rate > 20_000
		} else {
			rate *= 1.02 // 8 % a second
		}
		return rate
	})()
	w.layerMsg(t, 10*time.Second, "paused", func(m protocol.Message) bool { return m.Paused })
	w.layerMsg(t, 2*probeAfter, "resumed on the low layer", func(m protocol.Message) bool { return m.Current == protocol.LayerLow && !m.Paused })
	// The probe lasts simulcast.DefaultProbeFor; the layer holds past it.
	deadline := time.After(simulcast.DefaultProbeFor + 3*time.Second)
	for {
		select {
		case m := <-w.layerMsgs:
			if m.Paused || m.Current != protocol.LayerLow {
				t.Fatalf("after the resume: %+v, want the low layer held", m)
			}
		case <-deadline:
			return
		}
	}
}
