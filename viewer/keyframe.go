package viewer

import "time"

// How the viewer asks for the first keyframe: a PLI when the track arrives
// and again every keyframeAskEvery, up to keyframeAskTries in all, until
// one comes. A PLI sent before the media path is up is lost, and Chromium
// answers PLIs at most about once a second: one alone can leave the
// viewer waiting for the talker's next periodic keyframe.
const (
	keyframeAskEvery = 500 * time.Millisecond
	keyframeAskTries = 20
)

// askKeyframe calls pli at once and then every `every`, `tries` times in
// all, and returns after the last, when keyed is closed (the first keyframe
// came) or when stop is closed (the track ended), whichever comes first.
func askKeyframe(pli func(), every time.Duration, tries int, keyed, stop <-chan struct{}) {
	if tries <= 0 {
		return
	}
	ticker := time.NewTicker(every)
	defer ticker.Stop()
	for n := 0; ; {
		pli()
		if n++; n >= tries {
			return
		}
		select {
		case <-keyed:
			return
		case <-stop:
			return
		case <-ticker.C:
		}
		select { // a tick that raced the keyframe or the track's end asks no more
		case <-keyed:
			return
		case <-stop:
			return
		default:
		}
	}
}
