package rtc

import "time"

// AskKeyframe asks for a keyframe with ask (a PLI, or a request merged
// upstream) at once and then every `every`, `tries` times in all, until
// keyed is closed (the first keyframe came) or stop is closed (the track or
// the watcher ended), and returns then or after the last ask. Nothing is
// asked if keyed is closed already. A PLI sent before the media path is up
// is lost, and Chromium answers PLIs at most about once a second: one alone
// can leave a receiver waiting for the talker's next periodic keyframe.
func AskKeyframe(ask func(), every time.Duration, tries int, keyed, stop <-chan struct{}) {
	if tries <= 0 {
		return
	}
	select {
	case <-keyed:
		return
	default:
	}
	ticker := time.NewTicker(every)
	defer ticker.Stop()
	for n := 0; ; {
		ask()
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
		select { // a tick that raced the keyframe or the end asks no more
		case <-keyed:
			return
		case <-stop:
			return
		default:
		}
	}
}
