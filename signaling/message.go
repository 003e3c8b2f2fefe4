package signaling

import (
	"bytes"
	"encoding/json"
	"fmt"
	"unicode"
	"unicode/utf8"
)

// MaxRoomNameBytes is the longest room name accepted, in bytes of UTF-8.
const MaxRoomNameBytes = 128

// ValidRoomName returns ErrBadRoom unless name is 1 to MaxRoomNameBytes
// bytes of valid UTF-8 with no control characters.
func ValidRoomName(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("%w: empty", ErrBadRoom)
	case len(name) > MaxRoomNameBytes:
		return fmt.Errorf("%w: longer than %d bytes", ErrBadRoom, MaxRoomNameBytes)
	case !utf8.ValidString(name):
		return fmt.Errorf("%w: not UTF-8", ErrBadRoom)
	}
	for _, r := range name {
		if unicode.IsControl(r) {
			return fmt.Errorf("%w: control character", ErrBadRoom)
		}
	}
	return nil
}

// message is a parsed `message` event: a JSON object whose `type` is a
// non-empty string and whose optional `sendto` is a socket id.
type message struct {
	raw     []byte // the object, surrounding white space trimmed
	sendto  string // "" means the whole room
	hasFrom bool   // the sender supplied its own `from`, to be replaced
}

type messageHead struct {
	Type   *string         `json:"type"`
	Sendto json.RawMessage `json:"sendto"`
	From   json.RawMessage `json:"from"`
}

// parseMessage checks raw and returns ErrBadMessage, with the reason, if it
// is not a JSON object with a string `type`. A `sendto` that is null or ""
// means the room, as in the classic server; any other non-string is refused.
func parseMessage(raw []byte) (message, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '{' {
		return message{}, fmt.Errorf("%w: not a JSON object", ErrBadMessage)
	}
	var head messageHead
	if err := json.Unmarshal(raw, &head); err != nil {
		return message{}, fmt.Errorf("%w: %v", ErrBadMessage, err)
	}
	if head.Type == nil || *head.Type == "" {
		return message{}, fmt.Errorf("%w: missing string field \"type\"", ErrBadMessage)
	}
	m := message{raw: raw, hasFrom: head.From != nil}
	if len(head.Sendto) > 0 && string(head.Sendto) != "null" {
		if err := json.Unmarshal(head.Sendto, &m.sendto); err != nil {
			return message{}, fmt.Errorf("%w: \"sendto\" is not a string", ErrBadMessage)
		}
	}
	return m, nil
}

// stamp returns the message with `from` set to the sender, given as the
// encoded member from (`"from":"<id>"`). Any `from` the sender wrote is
// replaced, so an id cannot be forged.
func (m message) stamp(from []byte) json.RawMessage {
	raw := m.raw
	if m.hasFrom {
		var fields map[string]json.RawMessage
		if err := json.Unmarshal(raw, &fields); err == nil {
			delete(fields, "from")
			raw, _ = json.Marshal(fields)
		}
	}
	body := bytes.TrimSpace(raw[1 : len(raw)-1])
	out := make([]byte, 0, len(raw)+len(from)+2)
	out = append(out, '{')
	out = append(out, body...)
	if len(body) > 0 {
		out = append(out, ',')
	}
	out = append(out, from...)
	return append(out, '}')
}
