package signaling

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/broadcast-service/broadcast/protocol"
)

// MaxRoomNameRunes is the longest room name accepted, in characters.
const MaxRoomNameRunes = 64

// MaxKeyBytes is the longest key accepted in `enter`, in bytes.
const MaxKeyBytes = 256

// roomPunct are the characters besides letters, digits and inner spaces
// that a room name may hold.
const roomPunct = "-_.~:@+#()"

// ValidRoomName returns ErrBadRoom unless name is 1 to MaxRoomNameRunes
// characters, each a letter or digit of any script, a space (not first or
// last), or one of - _ . ~ : @ + # ( ).
func ValidRoomName(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("%w: empty", ErrBadRoom)
	case !utf8.ValidString(name):
		return fmt.Errorf("%w: not UTF-8", ErrBadRoom)
	case utf8.RuneCountInString(name) > MaxRoomNameRunes:
		return fmt.Errorf("%w: longer than %d characters", ErrBadRoom, MaxRoomNameRunes)
	case strings.TrimSpace(name) != name:
		return fmt.Errorf("%w: starts or ends with a space", ErrBadRoom)
	}
	for _, r := range name {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != ' ' && !strings.ContainsRune(roomPunct, r) {
			return fmt.Errorf("%w: %q is not allowed (letters, digits, spaces and %s)", ErrBadRoom, r, roomPunct)
		}
	}
	return nil
}

// ParseEnter decodes the argument of `enter`. It returns ErrBadRoom, with
// the reason, for anything but a valid room name or {room, role, key?}
// with role "talker", "watcher" or "relay".
func ParseEnter(raw []byte) (protocol.EnterRequest, error) {
	raw = bytes.TrimSpace(raw)
	var req protocol.EnterRequest
	switch {
	case len(raw) > 0 && raw[0] == '"': // a plain enter
		if err := json.Unmarshal(raw, &req.Room); err != nil {
			return req, fmt.Errorf("%w: %v", ErrBadRoom, err)
		}
	case len(raw) > 0 && raw[0] == '{':
		var err error
		if req, err = parseEnterObject(raw); err != nil {
			return req, err
		}
	default:
		return req, fmt.Errorf("%w: want a room name or {room, role, key?}", ErrBadRoom)
	}
	return req, ValidRoomName(req.Room)
}

// parseEnterObject decodes {room, role, key?, retake?}: ErrBadRoom for a
// field that is not a string, a missing room or role or an unknown role,
// ErrBadKey for a key or retake token over MaxKeyBytes.
func parseEnterObject(raw []byte) (protocol.EnterRequest, error) {
	var req protocol.EnterRequest
	var obj struct {
		Room   *string `json:"room"`
		Role   *string `json:"role"`
		Key    *string `json:"key"`
		Retake *string `json:"retake"`
	}
	if err := json.Unmarshal(raw, &obj); err != nil {
		return req, fmt.Errorf("%w: room, role and key must be strings", ErrBadRoom)
	}
	if obj.Room == nil || obj.Role == nil {
		return req, fmt.Errorf("%w: want {room, role, key?}", ErrBadRoom)
	}
	req.Room, req.Role = *obj.Room, protocol.Role(*obj.Role)
	if req.Role != protocol.RoleTalker && req.Role != protocol.RoleWatcher && req.Role != protocol.RoleRelay {
		return req, fmt.Errorf("%w: role must be \"talker\", \"watcher\" or \"relay\"", ErrBadRoom)
	}
	if obj.Key != nil {
		req.Key = *obj.Key
	}
	if obj.Retake != nil {
		req.Retake = *obj.Retake
	}
	if len(req.Key) > MaxKeyBytes || len(req.Retake) > MaxKeyBytes {
		return req, fmt.Errorf("%w: key longer than %d bytes", ErrBadKey, MaxKeyBytes)
	}
	return req, nil
}

// message is a parsed `message` event: a JSON object whose `type` is a
// known type and whose optional `sendto` is a socket id.
type message struct {
	raw     []byte // the object, surrounding white space trimmed
	typ     string
	sendto  string // "" means the whole room
	hasFrom bool   // the sender supplied its own `from` or `relay`, to be removed
}

type messageHead struct {
	Type   *string         `json:"type"`
	Sendto json.RawMessage `json:"sendto"`
	From   json.RawMessage `json:"from"`
	Relay  json.RawMessage `json:"relay"`
}

// parseMessage checks raw and returns ErrBadMessage, with the reason, if it
// is not a JSON object with a string `type`, and ErrUnknownType for a type
// the protocol does not have. A `sendto` that is null or "" means the room,
// as in the original Node server (bench/classic); any other non-string is refused.
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
	if !slices.Contains(protocol.Types, *head.Type) {
		return message{}, fmt.Errorf("%w: %.40q", ErrUnknownType, *head.Type)
	}
	m := message{raw: raw, typ: *head.Type, hasFrom: head.From != nil || head.Relay != nil}
	if len(head.Sendto) > 0 && string(head.Sendto) != "null" {
		if err := json.Unmarshal(head.Sendto, &m.sendto); err != nil {
			return message{}, fmt.Errorf("%w: \"sendto\" is not a string", ErrBadMessage)
		}
	}
	return m, nil
}

// stamp returns the message with `from` set to the sender, given as the
// encoded members from (`"from":"<id>"`, or `"relay":true,"from":"<id>"`
// for the room's relay). Any `from` or `relay` the sender wrote is
// removed, so neither an id nor the relay's stamp can be forged.
func (m message) stamp(from []byte) json.RawMessage {
	raw := m.raw
	if m.hasFrom {
		var fields map[string]json.RawMessage
		if err := json.Unmarshal(raw, &fields); err == nil {
			for k := range fields {
				// Any spelling a case-insensitive decoder (Go's) takes
				// for either.
				if strings.EqualFold(k, "from") || strings.EqualFold(k, "relay") {
					delete(fields, k)
				}
			}
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
