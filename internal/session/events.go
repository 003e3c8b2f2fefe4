package session

import (
	"encoding/json"
	"log/slog"

	"github.com/pion/webrtc/v4"

	"github.com/broadcast-service/broadcast/protocol"
	"github.com/broadcast-service/broadcast/signaling/sioclient"
)

// Event is what a Session hears: Entered, Message, Left, Refused or Lost.
type Event interface{ event() }

// Entered is the server's `entered` reply, with its ICE servers (TURN
// credentials included) ready for pion. Again is set when it follows a
// reconnection: the peer is in the room under a new socket id.
type Entered struct {
	// Room is the room entered.
	Room string
	// ICEServers are the STUN/TURN servers to gather candidates with.
	ICEServers []webrtc.ICEServer
	// Retake is a talker's retake token, if the server gave one.
	Retake string
	// Again is set when this follows a reconnection.
	Again bool
}

// Message is a `message` from another member of the room, `from` stamped
// by the server.
type Message struct{ protocol.Message }

// Left is `user disconnected`: the socket ID has left the room.
type Left struct{ ID string }

// Refused is a `signaling_error` for something the peer sent after it
// entered (a refusal of the enter itself is Open's or the reconnection's
// error).
type Refused struct{ protocol.SignalingError }

// Level is how much the refusal is worth logging: slog.LevelDebug for
// protocol.CodeUnknownRecipient (the peer named left before the message
// reached it, as watchers leaving while they are sent candidates do),
// slog.LevelWarn for anything else.
func (r Refused) Level() slog.Level {
	if r.Code == protocol.CodeUnknownRecipient {
		return slog.LevelDebug
	}
	return slog.LevelWarn
}

// Lost says the connection to the server was lost; the session is making it
// again, and an Entered with Again follows if it can.
type Lost struct{ Err error }

func (Entered) event() {}
func (Message) event() {}
func (Left) event()    {}
func (Refused) event() {}
func (Lost) event()    {}

// Decode reads an event's first argument into v. It reports false when the
// event has none or it does not decode.
func Decode(ev sioclient.Event, v any) bool {
	return len(ev.Args) > 0 && json.Unmarshal(ev.Args[0], v) == nil
}

// RefusalText is a `signaling_error` event as "code: message".
func RefusalText(ev sioclient.Event) string {
	var e protocol.SignalingError
	Decode(ev, &e)
	return e.Code + ": " + e.Message
}

// entered decodes an `entered` reply.
func entered(ev sioclient.Event) Entered {
	var in protocol.Entered
	Decode(ev, &in)
	e := Entered{Room: in.Room, Retake: in.Retake, ICEServers: make([]webrtc.ICEServer, 0, len(in.ICEServers))}
	for _, s := range in.ICEServers {
		e.ICEServers = append(e.ICEServers, webrtc.ICEServer{URLs: s.URLs, Username: s.Username, Credential: s.Credential})
	}
	return e
}

// typed turns a server event heard in the room into an Event, or nil for
// one a peer has no use for (or that does not decode).
func typed(ev sioclient.Event) Event {
	switch ev.Name {
	case protocol.EventMessage:
		var m Message
		if Decode(ev, &m.Message) {
			return m
		}
	case protocol.EventUserDisconnected:
		var u protocol.UserDisconnected
		if Decode(ev, &u) {
			return Left{ID: u.ID}
		}
	case protocol.EventError:
		var r Refused
		Decode(ev, &r.SignalingError)
		return r
	}
	return nil
}

// FromServer turns an event the server sent, by name and first argument,
// into an Event (Entered among them), or nil for one a peer has no use
// for: what a peer in the server's own process (package local) hears.
func FromServer(name string, data json.RawMessage) Event {
	ev := sioclient.Event{Name: name, Args: []json.RawMessage{data}}
	if name == protocol.EventEntered {
		return entered(ev)
	}
	return typed(ev)
}
