package signaling

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// inbound is the verdict on one WebSocket message from a client, before
// go-socket.io's parsers see it.
type inbound int

const (
	// inboundPass: a frame the product speaks; the library may parse it.
	inboundPass inbound = iota
	// inboundLeave: the client closes its socket.io session (`41`); the
	// connection is closed, as the client asked.
	inboundLeave
)

// checkInbound admits only what the pages and the Go peers send, as one
// WebSocket message of Engine.IO 3 over socket.io protocol v4
// (socket.io 2.x):
//
//   - `1`: Engine.IO close;
//   - `2` or `2probe`: Engine.IO ping;
//   - `41`: socket.io disconnect of the default namespace;
//   - `42[` + a JSON array whose first element is a plain event name: an
//     event in the default namespace, without an ack id.
//
// Anything else returns an error wrapping ErrBadFrame: binary messages,
// binary events and acks (whose attachment counts go-socket.io trusts),
// other namespaces, acks, connect packets and invalid JSON.
func checkInbound(binary bool, data []byte) (inbound, error) {
	if binary {
		return 0, fmt.Errorf("%w: binary message", ErrBadFrame)
	}
	switch {
	case len(data) == 0:
		return 0, fmt.Errorf("%w: empty message", ErrBadFrame)
	case bytes.Equal(data, []byte("1")), bytes.Equal(data, []byte("2")), bytes.Equal(data, []byte("2probe")):
		return inboundPass, nil
	case data[0] != '4':
		return 0, fmt.Errorf("%w: Engine.IO packet type %s", ErrBadFrame, quoteByte(data[0]))
	case len(data) < 2:
		return 0, fmt.Errorf("%w: empty socket.io packet", ErrBadFrame)
	}
	switch sio := data[1:]; {
	case bytes.Equal(sio, []byte("1")):
		return inboundLeave, nil
	case sio[0] != '2':
		return 0, fmt.Errorf("%w: socket.io packet type %s", ErrBadFrame, quoteByte(sio[0]))
	case len(sio) < 2 || sio[1] != '[':
		return 0, fmt.Errorf("%w: an event must be `42[...]`: no namespace, ack id or attachments", ErrBadFrame)
	default:
		return inboundPass, checkEvent(sio[1:])
	}
}

// checkEvent checks the JSON array of an event: valid JSON whose first
// element is an event name, a string without escapes, commas or brackets
// (go-socket.io reads the name up to the first comma or bracket). Events
// other than enter and message pass, and the library ignores them, as
// the original Node server (bench/classic) does.
func checkEvent(array []byte) error {
	if !json.Valid(array) {
		return fmt.Errorf("%w: event is not valid JSON", ErrBadFrame)
	}
	name := bytes.TrimLeft(array[1:], " \t\r\n")
	if len(name) < 2 || name[0] != '"' {
		return fmt.Errorf("%w: an event starts with its name", ErrBadFrame)
	}
	end := bytes.IndexAny(name[1:], `"\,]`)
	if end < 0 || name[1+end] != '"' {
		return fmt.Errorf("%w: an event name has no escapes, commas or brackets", ErrBadFrame)
	}
	return nil
}

// quoteByte shows a byte of a client's frame safely in an error.
func quoteByte(b byte) string { return fmt.Sprintf("%q", rune(b)) }
