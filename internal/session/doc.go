// Package session is a Go peer's signaling session: the one connection to
// the signaling server that the Go talker and watcher each keep, whatever
// their role.
//
// A Session dials the server, enters the room and waits for `entered`;
// while it is open it is the peer's typed way to the room: Send takes one of
// protocol's message structs, and Events yields Entered, Message, Left,
// Refused and Lost. A lost connection is made again by the session itself,
// with a back-off from RetryMin to RetryMax, entering again with the same
// request (and the retake token the server last gave); the socket id changes,
// and the next Entered says so with Again set. The peer keeps only its
// role's logic.
package session
