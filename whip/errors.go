package whip

import (
	"errors"
	"net/http"

	"github.com/broadcast-service/broadcast/internal/httperr"
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
var statuses = []httperr.Status{
	{Err: ErrContentType, Status: http.StatusUnsupportedMediaType, Code: "unsupported_media_type"},
	{Err: ErrTooLarge, Status: http.StatusRequestEntityTooLarge, Code: "too_large"},
	{Err: ErrBadSDP, Status: http.StatusBadRequest, Code: "bad_sdp"},
	{Err: ErrUnacceptable, Status: http.StatusUnprocessableEntity, Code: "unprocessable"},
	{Err: ErrNoToken, Status: http.StatusUnauthorized, Code: "token_needed"},
	{Err: ErrBadToken, Status: http.StatusForbidden, Code: "bad_key"},
	{Err: ErrRoomTaken, Status: http.StatusConflict, Code: "room_taken"},
	{Err: ErrBadRoom, Status: http.StatusBadRequest, Code: "bad_room"},
	{Err: ErrNoSession, Status: http.StatusNotFound, Code: "no_session"},
	{Err: ErrNotOnAir, Status: http.StatusNotFound, Code: "not_on_air"},
	{Err: ErrFull, Status: http.StatusServiceUnavailable, Code: "full"},
	{Err: ErrNoRelay, Status: http.StatusServiceUnavailable, Code: "no_relay"},
	{Err: ErrBusy, Status: http.StatusTooManyRequests, Code: "too_many"},
	{Err: ErrClosed, Status: http.StatusServiceUnavailable, Code: "closed"},
}

// statusOf returns err's HTTP status and code: 500 "internal" for an
// error not above.
func statusOf(err error) (int, string) { return httperr.Lookup(statuses, err) }
