package viewer

import (
	"errors"

	"github.com/broadcast-service/broadcast/internal/record"
	"github.com/broadcast-service/broadcast/internal/session"
)

var (
	// ErrNoTalker is returned when no talker answers within WaitTalker.
	ErrNoTalker = errors.New("the room has no talker")
	// ErrRoomFull is returned when the talker refuses with talk_reject.
	ErrRoomFull = errors.New("the room is full")
	// ErrRejected is returned when the talker refuses with talk_reject for
	// another reason, e.g. "timeout": the offer went unanswered too long.
	ErrRejected = errors.New("refused by the talker")
	// ErrRefused is returned when the server refuses the watcher (e.g. a
	// bad or expired watch key).
	ErrRefused = session.ErrRefused
	// ErrUnsupportedCodec is returned when the stream's video cannot be
	// recorded in the requested file.
	ErrUnsupportedCodec = record.ErrUnsupportedCodec
)
