package relay

import (
	"sync"
	"time"
)

// DefaultKeyframeInterval is the least time between two keyframe requests
// an Upstream sends its talker, whatever the number of watchers asking.
const DefaultKeyframeInterval = 500 * time.Millisecond

// keyframeThrottle merges keyframe requests: the first passes, and those
// that follow it within the interval are merged into it.
type keyframeThrottle struct {
	mu       sync.Mutex
	interval time.Duration
	last     time.Time
	sent     bool
}

// allow reports whether a request made at now is to be sent, and if so
// takes now as the last one sent.
func (k *keyframeThrottle) allow(now time.Time) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.sent && now.Sub(k.last) < k.interval {
		return false
	}
	k.sent, k.last = true, now
	return true
}
