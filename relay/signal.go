package relay

import (
	"github.com/broadcast-service/broadcast/internal/session"
	"github.com/broadcast-service/broadcast/protocol"
)

// Signal is a room's signaling as its relay uses it: what it hears in the
// room, sending messages, and its own socket id. *session.Session is one;
// tests route in memory. Send is called from several goroutines; Events
// has one reader.
type Signal interface {
	// Send sends one of protocol's message structs as a `message`.
	Send(msg protocol.Typed) error
	// Events yields what is heard in the room, and closes when the
	// signaling ends.
	Events() <-chan session.Event
	// ID is the relay's socket id.
	ID() string
}
