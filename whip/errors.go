package whip

import (
	"errors"
	"net/http"
)

// Errors of the endpoints, each with its HTTP status and the stable code
// of its response body.
var (
	// ErrContentType: a body of another type than the endpoint takes.
	ErrContentType = errors.New("unsupported content type")
	// ErrTooLarge: an offer or fragment over MaxBodyBytes.
	ErrTooLarge = errors.New("body too large")
	// ErrBadSDP: an offer or fragment that does not parse.
	ErrBadSDP = errors.New("bad SDP")
	// ErrUnacceptable: an offer the relay cannot take: it sends no audio or
	// video, or in no codec the relay forwards; or an ICE restart.
	ErrUnacceptable = errors.New("offer not acceptable")
	// ErrNoToken: no bearer token where the server needs one.
	ErrNoToken = errors.New("bearer token needed")
	// ErrBadToken: a token that is not the room's talk key, or not the
	// session's.
	ErrBadToken = errors.New("bad token")
	// ErrRoomTaken: the room has a talker.
	ErrRoomTaken = errors.New("room already has a talker")
	// ErrBadRoom: a room name the server does not take.
	ErrBadRoom = errors.New("bad room name")
	// ErrNoSession: no session at that URL (ended, or never made).
	ErrNoSession = errors.New("no such session")
	// ErrNoRelay: no relay to take the publisher: the server runs -relay
	// off, its relays are all taken, or the relay did not answer in time.
	ErrNoRelay = errors.New("no relay for the room")
	// ErrNotOnAir: a player asking for a room with no broadcast; or the
	// broadcast it played ended.
	ErrNotOnAir = errors.New("no broadcast in the room")
	// ErrFull: the room's relay serves its most watchers.
	ErrFull = errors.New("room full")
	// ErrBusy: too many sockets from the address, or in all.
	ErrBusy = errors.New("too many sessions")
	// ErrClosed: the server is draining.
	ErrClosed = errors.New("server shutting down")
)

// statuses are the errors' HTTP statuses and codes, most specific first.
var statuses = []struct {
	err    error
	status int
	code   string
}{
	{ErrContentType, http.StatusUnsupportedMediaType, "unsupported_media_type"},
	{ErrTooLarge, http.StatusRequestEntityTooLarge, "too_large"},
	{ErrBadSDP, http.StatusBadRequest, "bad_sdp"},
	{ErrUnacceptable, http.StatusUnprocessableEntity, "unprocessable"},
	{ErrNoToken, http.StatusUnauthorized, "token_needed"},
	{ErrBadToken, http.StatusForbidden, "bad_key"},
	{ErrRoomTaken, http.StatusConflict, "room_taken"},
	{ErrBadRoom, http.StatusBadRequest, "bad_room"},
	{ErrNoSession, http.StatusNotFound, "no_session"},
	{ErrNotOnAir, http.StatusNotFound, "not_on_air"},
	{ErrFull, http.StatusServiceUnavailable, "full"},
	{ErrNoRelay, http.StatusServiceUnavailable, "no_relay"},
	{ErrBusy, http.StatusTooManyRequests, "too_many"},
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
