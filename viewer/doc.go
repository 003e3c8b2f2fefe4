// Package viewer watches a room like watch.html does, with no browser: it
// requests the stream from the room's talker (or takes the offer of the
// room's relay, stamped relay: true by the server), receives it on pion,
// records audio and video into one file (WebM for VP8 or VP9 with Opus,
// Matroska for H.264), and reports what it received.
//
// The connection to the server is an internal/session Session; this package
// holds the watcher's role alone. The watcher moves through the phases
// watch.html shows (idle, waiting, connecting, live, resuming, talker away,
// full, ended; see phase.go), each move logged as a "phase" record.
//
//	v := viewer.New(viewer.Options{Server: "http://localhost:8080", Room: "lecture1", Record: "out.webm"})
//	stats, err := v.Run(ctx) // until ctx ends, Duration passes or the talker leaves
package viewer
