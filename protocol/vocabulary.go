package protocol

// Words are the protocol's words for a client in another language: the
// server serves it to the pages in its /config JSON (as `protocol`), so the
// pages spell none of them. Each map is keyed by the constant's name without
// its kind, in lower camel case (TypeTalkRequest is Types["talkRequest"],
// "talk_request"); a test checks that they hold every constant of the four
// kinds, and the roles.
type Words struct {
	// Events are the socket.io event names (the Event constants).
	Events map[string]string `json:"events"`
	// Types are the message types (the Type constants).
	Types map[string]string `json:"types"`
	// Rejects are the reasons of a TalkReject (the Reject constants).
	Rejects map[string]string `json:"rejects"`
	// Codes are the codes of a SignalingError (the Code constants).
	Codes map[string]string `json:"codes"`
	// Layers are the names of simulcast layers in a Layer message (the
	// Layer constants).
	Layers map[string]string `json:"layers"`
	// Roles are the roles of an EnterRequest (the Role constants).
	Roles map[string]Role `json:"roles"`
}

// Vocabulary returns the protocol's Words, in new maps each call.
func Vocabulary() Words {
	return Words{
		Events: map[string]string{
			"enter": EventEnter, "entered": EventEntered, "message": EventMessage,
			"userDisconnected": EventUserDisconnected, "error": EventError,
		},
		Types: map[string]string{
			"talkRequest": TypeTalkRequest, "talkReady": TypeTalkReady, "talkReject": TypeTalkReject,
			"offer": TypeOffer, "answer": TypeAnswer, "candidate": TypeCandidate,
			"bye": TypeBye, "endTalk": TypeEndTalk, "stats": TypeStats,
			"layer": TypeLayer,
		},
		Layers:  map[string]string{"auto": LayerAuto, "low": LayerLow, "medium": LayerMedium, "high": LayerHigh},
		Rejects: map[string]string{"full": RejectFull, "timeout": RejectTimeout, "dropped": RejectDropped},
		Codes: map[string]string{
			"notInRoom": CodeNotInRoom, "badRoom": CodeBadRoom, "badMessage": CodeBadMessage,
			"unknownType": CodeUnknownType, "unknownRecipient": CodeUnknownRecipient,
			"tooLarge": CodeTooLarge, "rateLimited": CodeRateLimited, "talkerBusy": CodeTalkerBusy,
			"notTalker": CodeNotTalker, "badKey": CodeBadKey, "expired": CodeExpired,
			"roomTaken": CodeRoomTaken, "roomFull": CodeRoomFull, "tooManySockets": CodeTooManySockets,
			"enterTimeout": CodeEnterTimeout, "closed": CodeClosed, "badFrame": CodeBadFrame,
			"internal": CodeInternal,
		},
		Roles: map[string]Role{"plain": RolePlain, "talker": RoleTalker, "watcher": RoleWatcher, "relay": RoleRelay},
	}
}
