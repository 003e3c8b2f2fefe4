// Package protocol is the signaling protocol's vocabulary, written down
// once for the server (package signaling), the Go peers (broadcaster,
// viewer), the load tool and, through the server's /config JSON, the pages:
// event names, message types and their fields, roles, refusal codes and
// the timing both ends rely on.
//
// A client speaks socket.io 2.x to the server. It emits `enter` with an
// EnterRequest (or a plain room name) and hears `entered` (Entered) or
// `signaling_error` (SignalingError). It then emits and hears `message`
// events: JSON objects with a `type` (the Type constants), an optional
// `sendto` socket id and, as heard, the sender's socket id in `from`,
// stamped by the server. A talker hears `user disconnected`
// (UserDisconnected) when a watcher leaves; every member hears it when the
// talker leaves.
//
// A room may have a relay (RoleRelay), a peer inside the server that takes
// the talker's stream once and serves watchers past the talker's own
// maximum: the server stamps `relay: true` (Head.Relay) on what it sends.
//
// The package imports nothing outside the standard library, so a client
// importing it does not pull in the server.
package protocol
