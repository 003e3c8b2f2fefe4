package recording

import (
	"errors"
	"net/http"

	"github.com/broadcast-service/broadcast/internal/httperr"
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
	// video keyframe. The recording stops (logged).
	ErrNoVideo = errors.New("no video to record")
	// ErrStopped: the relay began a recording that was stopped already.
	ErrStopped = errors.New("recording stopped")
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
var statuses = []httperr.Status{
	{Err: ErrNotOnAir, Status: http.StatusConflict, Code: "not_on_air"},
	{Err: ErrNoRelay, Status: http.StatusServiceUnavailable, Code: "no_relay"},
	{Err: ErrNoToken, Status: http.StatusUnauthorized, Code: "token_needed"},
	{Err: ErrBadToken, Status: http.StatusForbidden, Code: "bad_key"},
	{Err: ErrBadRoom, Status: http.StatusBadRequest, Code: "bad_room"},
	{Err: ErrNoFile, Status: http.StatusNotFound, Code: "no_recording"},
	{Err: ErrClosed, Status: http.StatusServiceUnavailable, Code: "closed"},
}

// statusOf returns err's HTTP status and code: 500 "internal" for an
// error not above.
func statusOf(err error) (int, string) { return httperr.Lookup(statuses, err) }
