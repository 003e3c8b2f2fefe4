// Package viewer watches a room like watch.html does, with no browser: it
// requests the stream from the room's talker, receives it on pion, records
// audio and video into one file (WebM for VP8 or VP9 with Opus, Matroska
// for H.264), and reports what it received.
//
//	v := viewer.New(viewer.Options{Server: "http://localhost:8080", Room: "lecture1", Record: "out.webm"})
//	stats, err := v.Run(ctx) // until ctx ends, Duration passes or the talker leaves
package viewer
