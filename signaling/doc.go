// Package signaling routes the WebRTC handshake between the sockets of a
// room: the room registry (Hub), per-client outbound queues bounded in bytes,
// and a socket.io transport (Server) on go-socket.io.
//
// The wire protocol is the talk/watch one of the original Node server
// (bench/classic). A client emits `enter` with a room name and `message`
// objects {type, sendto?, ...}; the hub stamps `from` with the sender's
// socket id and delivers the message to `sendto` if it is in the sender's
// room, or else to every other member of the room, never back to the sender
// and never across rooms. When a socket goes away the rest of its room
// receives `user disconnected` {id}. A refused event earns its sender a
// `signaling_error` {code, message}. The names, message types and codes are
// package protocol's, which clients import in place of this one.
//
// A room may have a relay (protocol.RoleRelay), the server's own peer that
// serves watchers past the talker's maximum: it enters with
// Options.RelaySecret, everything it sends is stamped `relay: true`, and
// Options.Relay (a RelayStarter) starts it when Options.RelayMode asks
// (see relay.go and docs/protocol.md).
//
// The shortest use:
//
//	hub := signaling.NewHub(signaling.Options{})
//	srv := signaling.NewServer(hub, signaling.ServerOptions{})
//	go srv.Serve()
//	http.Handle("/socket.io/", srv)
package signaling
