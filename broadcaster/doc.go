// Package broadcaster goes on air from media files, with no browser: it is
// a room's talker, serving each watcher with its own PeerConnection exactly
// as talk.html does (talk_ready, one offer per talk_request, sent again
// unchanged if the watcher asks again before answering, trickle ICE, the
// watcher cap with talk_reject, the room's relay served beyond that cap,
// end_talk on exit, on air again after a lost connection to the server,
// resuming the sessions still up), so watch.html cannot tell the two apart.
//
// Each frame is read and packetised once, into one local track per kind that
// every watcher's PeerConnection shares. A watcher's PLI is answered with the
// next keyframe the file has, skipping ahead to it.
//
// The connection to the server is an internal/session Session; this package
// holds the talker's role alone. Its watchers are an internal/watchers
// Table, as the relay's are: each watcher's media session moves through
// explicit phases (offered, answered, live, orphaned, gone), each move made
// by one function that also keeps the phase's deadline. This package makes
// each watcher's PeerConnection with the shared tracks and a data channel.
//
//	b, err := broadcaster.New(broadcaster.Options{
//		Server: "http://localhost:8080", Room: "lecture1",
//		Video: "talk.ivf", Audio: "talk.ogg",
//	})
//	err = b.Run(ctx) // until ctx ends
package broadcaster
