package session

import (
	"log/slog"
	"testing"

	"github.com/broadcast-service/broadcast/protocol"
)

// A refusal naming a peer that left meanwhile is routine; others are not.
func TestRefusedLevel(t *testing.T) {
	for code, want := range map[string]slog.Level{
		protocol.CodeUnknownRecipient: slog.LevelDebug,
		protocol.CodeNotTalker:        slog.LevelWarn,
		protocol.CodeBadMessage:       slog.LevelWarn,
	} {
		if got := (Refused{protocol.SignalingError{Code: code}}).Level(); got != want {
			t.Errorf("%s: level %v, want %v", code, got, want)
		}
	}
}
