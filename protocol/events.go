package protocol

// Event names: the socket.io events of the protocol.
const (
	// EventEnter, client to server: an EnterRequest, or a room name.
	EventEnter = "enter"
	// EventEntered, server to client: Entered, the reply to a successful
	// `enter`.
	EventEntered = "entered"
	// EventMessage, both ways: a message of one of the Type constants.
	EventMessage = "message"
	// EventUserDisconnected, server to client: UserDisconnected.
	EventUserDisconnected = "user disconnected"
	// EventError, server to client: SignalingError, a refusal.
	EventError = "signaling_error"
)

// EnterRequest is the argument of `enter`: a room name (a plain enter,
// Role RolePlain), or {room, role, key?, retake?}. Key is the room's talk
// or watch key, if it needs one. Retake is the retake token a talker got
// in `entered` in an open hub, presented to take its room back within
// RetakeWindow of losing it.
type EnterRequest struct {
	Room   string `json:"room"`
	Role   Role   `json:"role"`
	Key    string `json:"key,omitempty"`
	Retake string `json:"retake,omitempty"`
}

// ICEServer is an RTCIceServer as a page's RTCPeerConnection takes it:
// STUN or TURN URLs and, for TURN, the credentials.
type ICEServer struct {
	URLs       []string `json:"urls"`
	Username   string   `json:"username,omitempty"`
	Credential string   `json:"credential,omitempty"`
}

// Entered is the `entered` event: the room entered, the role held, the ICE
// servers to use (never null; TURN credentials in it are made for this
// socket alone) and, for a talker in an open hub, its retake token.
type Entered struct {
	Room       string      `json:"room"`
	Role       Role        `json:"role"`
	ICEServers []ICEServer `json:"iceServers"`
	Retake     string      `json:"retake,omitempty"`
}

// UserDisconnected is the `user disconnected` event: the socket id that
// left the room.
type UserDisconnected struct {
	ID string `json:"id"`
}

// SignalingError is the `signaling_error` event: a refusal's stable Code
// (one of the Code constants) and a message for people.
type SignalingError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}
