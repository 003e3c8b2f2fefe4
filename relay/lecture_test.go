package relay

import (
	"fmt"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"
)

// otherVideo returns the packets the watcher got of its video track id.
func (w *testWatcher) otherVideo(id string) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.others[id]
}

// Lecture mode: a talker offers a camera, audio and a second video (a
// screen it shares later). The watchers are served once the camera and
// audio come, with a track for the screen, and the screen's packets
// reach a watcher served before it was shared, and one served after.
func TestSecondVideoComesLate(t *testing.T) {
	r := newRigSetUp(t, Config{}, func(tt *testTalker) {
		s, err := webrtc.NewTrackLocalStaticSample(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8}, "screen", "talker")
		if err != nil {
			t.Fatal(err)
		}
		tt.screen = s
	})
	early := r.watch("early")
	within(t, early.enough, 20*time.Second, "camera and audio")
	if n := early.otherVideo("video2"); n != 0 {
		t.Fatalf("%d screen packets before the talker shared it", n)
	}
	r.talker.screenOn.Store(true)
	eventually(t, 10*time.Second, "the screen at the early watcher", func() bool { return early.otherVideo("video2") > 30 })
	late := r.watch("late")
	within(t, late.enough, 20*time.Second, "camera and audio")
	eventually(t, 10*time.Second, "the screen at the late watcher", func() bool { return late.otherVideo("video2") > 30 })
	r.room.mu.Lock()
	ids := []string{}
	for _, tr := range r.room.tracks {
		ids = append(ids, tr.id)
	}
	r.room.mu.Unlock()
	if want := "[video audio video2]"; fmt.Sprint(ids) != want {
		t.Errorf("the relay's tracks %v, want %s: the talker's order", ids, want)
	}
}

// The relay's offers say how long the talker has been on air, from the
// talker's offer to the relay, moved on by the time since.
func TestOfferSaysHowLongOnAir(t *testing.T) {
	r := newRigSetUp(t, Config{}, func(tt *testTalker) { tt.onAirMs = 3_600_000 })
	w := r.watch("w1")
	within(t, w.offered, 20*time.Second, "an offer")
	w.mu.Lock()
	got := w.onAirMs
	w.mu.Unlock()
	if got < 3_600_000 || got > 3_600_000+60_000 {
		t.Fatalf("offer's onAirMs %d, want the talker's hour and the seconds since", got)
	}
}

// A talker with a microphone only, whose slides come later: its watchers,
// served with the audio once the video has not come within tracksWait,
// have tracks for both its videos, and get the slides when they come.
func TestSlidesOfAnAudioOnlyTalker(t *testing.T) {
	r := newRigSetUp(t, Config{}, func(tt *testTalker) {
		s, err := webrtc.NewTrackLocalStaticSample(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8}, "screen", "talker")
		if err != nil {
			t.Fatal(err)
		}
		tt.screen, tt.muteVideo = s, true
	})
	w := r.watch("early")
	eventually(t, 20*time.Second, "audio", func() bool { _, a := w.counts(); return a > 20 })
	r.talker.screenOn.Store(true)
	eventually(t, 10*time.Second, "the slides", func() bool { return w.otherVideo("video2") > 30 })
}
