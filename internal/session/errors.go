package session

import "errors"

var (
	// ErrRefused is returned when the server refuses to let the peer in
	// (a `signaling_error` in reply to `enter`: the room is taken, the key
	// is bad...). The error's text says the code and message.
	ErrRefused = errors.New("refused by the signaling server")
	// ErrUnreachable is returned when the server cannot be reached.
	ErrUnreachable = errors.New("signaling server unreachable")
	// ErrLost is returned by Err, wrapping why, when the connection was lost
	// and could not be made again within Config.ReconnectFor.
	ErrLost = errors.New("signaling connection lost")
	// ErrClosed is returned by Send on a closed session.
	ErrClosed = errors.New("signaling session closed")
)
