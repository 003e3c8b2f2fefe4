package signaling

import (
	"errors"

	"github.com/broadcast-service/broadcast/protocol"
)

// Sentinel errors. Each one reported to a client is sent in a
// `signaling_error` event {code, message} with the stable code Code gives.
var (
	// ErrNotInRoom: a message before `enter`.
	ErrNotInRoom = errors.New("not in a room")
	// ErrBadRoom: `enter` names no valid room (see ValidRoomName), or its
	// argument is neither a room name nor {room, role, key}.
	ErrBadRoom = errors.New("bad room name")
	// ErrBadMessage: a `message` that is not a JSON object with a string
	// `type`, or whose `sendto` is not a string.
	ErrBadMessage = errors.New("bad message")
	// ErrUnknownType: a `message` whose `type` the protocol does not know.
	ErrUnknownType = errors.New("unknown message type")
	// ErrUnknownRecipient: `sendto` names nobody the sender may reach in its
	// room.
	ErrUnknownRecipient = errors.New("unknown recipient")
	// ErrTooLarge: a message over the size limit.
	ErrTooLarge = errors.New("message too large")
	// ErrRateLimited: a socket sending faster than its rate limit.
	ErrRateLimited = errors.New("rate limited")
	// ErrTalkerBusy: a watcher's message to a talker that has not yet read
	// enough of what watchers sent it (see Limits.WatcherQueueBytes); the
	// watcher may send again later.
	ErrTalkerBusy = errors.New("talker busy")
	// ErrNotTalker: a talker's message (talk_ready, offer, talk_reject,
	// end_talk) from a socket that is not the room's talker.
	ErrNotTalker = errors.New("only the room's talker may send this")
	// ErrBadKey: a talk or watch key that does not verify.
	ErrBadKey = errors.New("bad key")
	// ErrExpired: a watch key past its expiry.
	ErrExpired = errors.New("key expired")
	// ErrRoomTaken: a talker entering a room that already has one.
	ErrRoomTaken = errors.New("room already has a talker")
	// ErrRoomFull: entering a room that has its maximum of sockets.
	ErrRoomFull = errors.New("room has too many sockets")
	// ErrTooManySockets: over the limit of sockets per address or in all.
	ErrTooManySockets = errors.New("too many sockets")
	// ErrEnterTimeout: a socket that did not enter a room within
	// Limits.EnterTimeout of connecting; it is told, then disconnected.
	ErrEnterTimeout = errors.New("no room entered in time")
	// ErrClosed: the client has already left the hub.
	ErrClosed = errors.New("client closed")
	// ErrDuplicateID: Hub.Connect with an id already connected.
	ErrDuplicateID = errors.New("duplicate client id")
	// ErrBadFrame: a WebSocket message outside what the server speaks (see
	// the README's protocol notes); the socket is told, then disconnected.
	ErrBadFrame = errors.New("bad frame")
	// ErrInternal: a fault in the server while serving a client (a
	// recovered panic); the client is disconnected, nobody else notices.
	ErrInternal = errors.New("internal error")
	// ErrSlowConsumer: why a client is evicted when its outbound queue
	// exceeds its byte limit.
	ErrSlowConsumer = errors.New("slow consumer: outbound queue full")
	// ErrBadRelayMode: ParseRelayMode of anything but auto, off or always.
	ErrBadRelayMode = errors.New("bad relay mode")
)

var codes = []struct {
	err  error
	code string
}{
	{ErrNotInRoom, protocol.CodeNotInRoom},
	{ErrBadRoom, protocol.CodeBadRoom},
	{ErrBadMessage, protocol.CodeBadMessage},
	{ErrUnknownType, protocol.CodeUnknownType},
	{ErrUnknownRecipient, protocol.CodeUnknownRecipient},
	{ErrTooLarge, protocol.CodeTooLarge},
	{ErrRateLimited, protocol.CodeRateLimited},
	{ErrTalkerBusy, protocol.CodeTalkerBusy},
	{ErrNotTalker, protocol.CodeNotTalker},
	{ErrBadKey, protocol.CodeBadKey},
	{ErrExpired, protocol.CodeExpired},
	{ErrRoomTaken, protocol.CodeRoomTaken},
	{ErrRoomFull, protocol.CodeRoomFull},
	{ErrTooManySockets, protocol.CodeTooManySockets},
	{ErrEnterTimeout, protocol.CodeEnterTimeout},
	{ErrClosed, protocol.CodeClosed},
	{ErrBadFrame, protocol.CodeBadFrame},
}

// Code returns the stable code sent to clients for err: the protocol.Code
// constant of its sentinel (ErrNotInRoom: protocol.CodeNotInRoom, and so
// on), or protocol.CodeInternal for any other error.
func Code(err error) string {
	for _, c := range codes {
		if errors.Is(err, c.err) {
			return c.code
		}
	}
	return protocol.CodeInternal
}
