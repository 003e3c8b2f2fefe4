package signaling

import (
	"encoding/json"
	"errors"
)

// Observer is told what the hub does, for metrics. Its methods are called
// on the hub's hot paths and must not block.
type Observer interface {
	// Routed: a message of type msgType, size bytes, reached recipients.
	Routed(msgType string, bytes, recipients int)
	// Refused: an event was refused with a signaling_error code.
	Refused(code string)
	// Evicted: a socket was dropped, for reason "slow_consumer",
	// "rate_limited" or "write_error".
	Evicted(reason string)
	// ViewerReport: a watcher sent its talker a quality report.
	ViewerReport(r ViewerReport)
}

// ViewerReport is a watcher's `stats` message, as pages and the Go viewer
// send it every few seconds from their receiver statistics. A field the
// sender left out is nil.
type ViewerReport struct {
	// Bitrate is the inbound video bitrate, in bits/s.
	Bitrate *float64 `json:"bitrate"`
	// FPS is the video frames decoded per second.
	FPS *float64 `json:"fps"`
	// PacketsLost is the packets lost since the previous report.
	PacketsLost *float64 `json:"packetsLost"`
	// Jitter is the video jitter, in seconds (RFC 3550 §6.4.1).
	Jitter *float64 `json:"jitter"`
	// Freezes is the video freezes since the previous report.
	Freezes *float64 `json:"freezes"`
	// RTT is the round-trip time, in seconds.
	RTT *float64 `json:"rtt"`
}

type noObserver struct{}

func (noObserver) Routed(string, int, int)   {}
func (noObserver) Refused(string)            {}
func (noObserver) Evicted(string)            {}
func (noObserver) ViewerReport(ViewerReport) {}

// evictionReason names why a socket was dropped, for an Observer.
func evictionReason(err error) string {
	switch {
	case errors.Is(err, ErrSlowConsumer):
		return "slow_consumer"
	case errors.Is(err, ErrRateLimited):
		return "rate_limited"
	default:
		return "write_error"
	}
}

// parseReport reads a stats message; a malformed one yields an empty report.
func parseReport(raw []byte) ViewerReport {
	var r ViewerReport
	_ = json.Unmarshal(raw, &r)
	return r
}
