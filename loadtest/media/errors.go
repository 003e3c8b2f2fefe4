package media

import "errors"

// Errors a watcher or a scenario returns, wrapped with detail.
var (
	// ErrRejected: the talker or relay answered talk_reject (full, timeout).
	ErrRejected = errors.New("talk request rejected")
	// ErrEnded: the talker left, or ended its talk, before the watcher was done.
	ErrEnded = errors.New("the talker left")
	// ErrNotLive: a watcher saw no complete keyframe in time.
	ErrNotLive = errors.New("no first frame in time")
	// ErrProc: the server's /proc entry could not be read.
	ErrProc = errors.New("reading the server's /proc")
)
