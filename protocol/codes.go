package protocol

// Codes: the stable `code` of a SignalingError, one per refusal.
const (
	// CodeNotInRoom: a message before `enter`.
	CodeNotInRoom = "not_in_room"
	// CodeBadRoom: `enter` names no valid room, or its argument is neither
	// a room name nor an EnterRequest.
	CodeBadRoom = "bad_room"
	// CodeBadMessage: a `message` that is not a JSON object with a string
	// `type`, or whose `sendto` is not a string.
	CodeBadMessage = "bad_message"
	// CodeUnknownType: a `message` whose `type` is none of Types.
	CodeUnknownType = "unknown_type"
	// CodeUnknownRecipient: `sendto` names nobody the sender may reach.
	CodeUnknownRecipient = "unknown_recipient"
	// CodeTooLarge: a message over the size limit.
	CodeTooLarge = "too_large"
	// CodeRateLimited: a socket sending faster than its rate limit.
	CodeRateLimited = "rate_limited"
	// CodeTalkerBusy: the talker has not yet read enough of what watchers
	// sent it; the watcher may send again later.
	CodeTalkerBusy = "talker_busy"
	// CodeNotTalker: a talker's message (see TalkerOnly) from a socket
	// that is not the room's talker.
	CodeNotTalker = "not_talker"
	// CodeBadKey: a talk or watch key that does not verify.
	CodeBadKey = "bad_key"
	// CodeExpired: a watch key past its expiry.
	CodeExpired = "expired"
	// CodeRoomTaken: a talker entering a room that already has one.
	CodeRoomTaken = "room_taken"
	// CodeRoomFull: entering a room that has its maximum of sockets.
	CodeRoomFull = "room_full"
	// CodeTooManySockets: over the limit of sockets per address or in all.
	CodeTooManySockets = "too_many_sockets"
	// CodeEnterTimeout: no room entered in time after connecting; the
	// server then closes the socket.
	CodeEnterTimeout = "enter_timeout"
	// CodeClosed: the socket has already left.
	CodeClosed = "closed"
	// CodeBadFrame: a WebSocket message outside what the server speaks;
	// the server then closes the socket.
	CodeBadFrame = "bad_frame"
	// CodeInternal: any other fault, in the server.
	CodeInternal = "internal"
)
