package signaling

import "errors"

// Sentinel errors. Each one the hub reports to a client maps to a stable
// code sent in the `signaling_error` event (see Code).
var (
	// ErrNotInRoom is returned when a client sends a message before `enter`.
	ErrNotInRoom = errors.New("not in a room")
	// ErrBadRoom is returned when `enter` names no usable room.
	ErrBadRoom = errors.New("bad room name")
	// ErrBadMessage is returned when a `message` is not a JSON object
	// with a string `type`, or its `sendto` is not a string.
	ErrBadMessage = errors.New("bad message")
	// ErrUnknownRecipient is returned when `sendto` names no client in the
	// sender's room (it is unknown, gone, or in another room).
	ErrUnknownRecipient = errors.New("unknown recipient")
	// ErrClosed is returned for a client that has already left the hub.
	ErrClosed = errors.New("client closed")
	// ErrDuplicateID is returned by Hub.Connect for an id already connected.
	ErrDuplicateID = errors.New("duplicate client id")
	// ErrSlowConsumer is the reason a client is evicted when its outbound
	// queue exceeds its byte limit.
	ErrSlowConsumer = errors.New("slow consumer: outbound queue full")
)

// Code returns the stable, machine-readable code sent to clients for err
// ("not_in_room", "bad_room", "bad_message", "unknown_recipient"), or
// "internal" for any other error.
func Code(err error) string {
	switch {
	case errors.Is(err, ErrNotInRoom):
		return "not_in_room"
	case errors.Is(err, ErrBadRoom):
		return "bad_room"
	case errors.Is(err, ErrBadMessage):
		return "bad_message"
	case errors.Is(err, ErrUnknownRecipient):
		return "unknown_recipient"
	case errors.Is(err, ErrClosed):
		return "closed"
	default:
		return "internal"
	}
}
