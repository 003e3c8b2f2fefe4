package relay

import (
	"testing"
	"time"
)

// TestLateWatcherStartsFromGOPCache: with the cache on (the default), a
// watcher joining a relay already forwarding to another starts on the
// cached group of pictures, a keyframe first, with no sequence number
// missing, and no PLI goes to the talker for it.
func TestLateWatcherStartsFromGOPCache(t *testing.T) {
	r := newRig(t, Config{})
	first := r.watch("w1")
	within(t, first.enough, 20*time.Second, "the first watcher's media")
	for len(r.talker.plis) > 0 {
		<-r.talker.plis
	}
	late := r.watch("w2")
	within(t, late.enough, 20*time.Second, "the late watcher's media")
	if !late.firstKeyframe() {
		t.Error("the late watcher's first video packet does not begin a keyframe")
	}
	if n := late.holes(50); n != 0 {
		t.Errorf("late watcher: %d sequence numbers missing", n)
	}
	if n := len(r.talker.plis); n != 0 {
		t.Errorf("%d PLIs reached the talker for the late watcher, want none", n)
	}
	st := r.room.Stats()
	if st.GOPReplays == 0 {
		t.Errorf("no GOP replay counted: %+v", st)
	}
	t.Logf("late watcher: first video packet %v after asking; relay: %+v", late.firstAt.Sub(late.asked).Round(time.Millisecond), st)
}
