package signaling

import (
	"encoding/json"
	"errors"

	"github.com/broadcast-service/broadcast/protocol"
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
	// ViewerReport: a watcher sent its talker (or the room's relay) a
	// quality report (a protocol.Stats message). The relay's stats, its
	// watchers' reports passed on, are not told again.
	ViewerReport(r protocol.Report)
}

type noObserver struct{}

func (noObserver) Routed(string, int, int)      {}
func (noObserver) Refused(string)               {}
func (noObserver) Evicted(string)               {}
func (noObserver) ViewerReport(protocol.Report) {}

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
func parseReport(raw []byte) protocol.Report {
	var r protocol.Report
	_ = json.Unmarshal(raw, &r)
	return r
}
