package rtc_test

import (
	"testing"
	"time"

	"github.com/broadcast-service/broadcast/internal/rtc"
)

// With no keyframe coming, it asks again and again, tries times in
// all, then stops asking.
func TestAskKeyframeRepeatsUpToTries(t *testing.T) {
	plis := 0
	rtc.AskKeyframe(func() { plis++ }, time.Millisecond, 5, make(chan struct{}), make(chan struct{}))
	if plis != 5 {
		t.Fatalf("%d PLIs sent, want 5", plis)
	}
}

// Asking goes on until the first keyframe comes, and stops there.
func TestAskKeyframeStopsAtKeyframe(t *testing.T) {
	sent := make(chan struct{})
	keyed := make(chan struct{})
	done := make(chan int)
	plis := 0
	go func() {
		rtc.AskKeyframe(func() { plis++; sent <- struct{}{} }, time.Millisecond, 20, keyed, make(chan struct{}))
		done <- plis
	}()
	for range 3 { // the first PLI and two repeats
		<-sent
	}
	close(keyed)
	select {
	case <-sent: // a tick raced the keyframe: one more at most
	case n := <-done:
		if n != 3 {
			t.Fatalf("%d PLIs sent, want 3", n)
		}
		return
	}
	if n := <-done; n != 4 {
		t.Fatalf("%d PLIs sent, want 3 or 4", n)
	}
}

// The track ending stops the asking too.
func TestAskKeyframeStopsWithTrack(t *testing.T) {
	stop := make(chan struct{})
	close(stop)
	plis := 0
	rtc.AskKeyframe(func() { plis++ }, time.Hour, 20, make(chan struct{}), stop)
	if plis != 1 {
		t.Fatalf("%d PLIs sent, want 1", plis)
	}
}

// A keyframe already in (a watcher started from the relay's cache) asks
// nothing.
func TestAskKeyframeNotWhenKeyed(t *testing.T) {
	keyed := make(chan struct{})
	close(keyed)
	plis := 0
	rtc.AskKeyframe(func() { plis++ }, time.Millisecond, 5, keyed, make(chan struct{}))
	if plis != 0 {
		t.Fatalf("%d PLIs sent, want none", plis)
	}
}
