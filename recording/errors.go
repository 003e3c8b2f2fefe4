package recording

import (
	"errors"
	"net/http"
)

// Errors of the recorder, each with its HTTP status and the stable code
// of its response body.
var (
	// ErrNotOnAir: a recording asked of a room with no talker on air.
	ErrNotOnAir = errors.New("no broadcaster on air in the room")
	// ErrNoRelay: the room's relay cannot be had (the server runs -relay
	// off, or its relays are all taken): nothing records without it.
	ErrNoRelay = errors.New("no relay for the room")
	// ErrNoVideo: the talker sends no video; a recording starts at a
	// video keyframe.
	ErrNoVideo = errors.New("no video to record")
	// ErrNoToken: no talk key where the server needs one.
	ErrNoToken = errors.New("talk key needed")
	// ErrBadToken: not the room's talk key.
	ErrBadToken = errors.New("bad key")
	// ErrBadRoom: a room name the server does not take.
	ErrBadRoom = errors.New("bad room name")
	// ErrNoFile: no recording of that name.
	ErrNoFile = errors.New("no such recording")
	// ErrClosed: the server is draining.
	ErrClosed = errors.New("server shutting down")
)

// statuses are the errors' HTTP statuses and codes.
var statuses = []struct {
	err    error
	status int
	code   string
}{
	{ErrNotOnAir, http.StatusConflict, "not_on_air"},
	{ErrNoRelay, http.StatusServiceUnavailable, "no_relay"},
	{ErrNoVideo, http.StatusConflict, "no_video"},
	{ErrNoToken, http.StatusUnauthorized, "token_needed"},
	{ErrBadToken, http.StatusForbidden, "bad_key"},
	{ErrBadRoom, http.StatusBadRequest, "bad_room"},
	{ErrNoFile, http.StatusNotFound, "no_recording"},
	{ErrClosed, http.StatusServiceUnavailable, "closed"},
}

// statusOf returns err's HTTP status and code: 500 "internal" for an
// error not above.
func statusOf(err error) (int, string) {
	for _, s := range statuses {
		if errors.Is(err, s.err) {
			return s.status, s.code
		}
	}
	return http.StatusInternalServerError, "internal"
}
