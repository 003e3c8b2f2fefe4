package viewer

import "time"

// How the viewer asks for the first keyframe (rtc.AskKeyframe): a PLI
// when the track arrives and again every keyframeAskEvery, up to
// keyframeAskTries in all, until one comes.
const (
	keyframeAskEvery = 500 * time.Millisecond
	keyframeAskTries = 20
)
