package broadcaster

import (
	"errors"

	"github.com/broadcast-service/broadcast/internal/session"
)

var (
	// ErrUnsupportedMedia is returned for a file that is not VP8/VP9 IVF,
	// H.264 Annex B or Opus in Ogg.
	ErrUnsupportedMedia = errors.New("unsupported media")
	// ErrNoMedia is returned when neither a video nor an audio file is given.
	ErrNoMedia = errors.New("no media: give a video file, an audio file, or both")
	// ErrRefused is returned when the server refuses the talker (e.g. the
	// room already has one, or the key is bad).
	ErrRefused = session.ErrRefused
)
