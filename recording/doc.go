// Package recording records rooms on the server (-record-dir): the room's
// relay writes the talker's audio and first video into a recording as
// into one more watcher (relay.Recording), and a session of this package
// builds the packets into frames and writes them, without decoding, into
// WebM (VP8, VP9 with Opus) or Matroska (H.264 with Opus) with the Go
// watcher's writer (internal/record).
//
// A recording is started and stopped per room, from the talk page or by
// HTTP with the room's talk key (in a keyed server), and lasts until it is
// stopped, the talker leaves (its relay ends), or the server drains; the
// talker reconnecting (its sessions resumed) keeps the relay, and the
// file, going. Its file is named by room and start time
// (<room, percent-escaped but its letters and digits>_<UTC start,
// 20060102T150405.000Z>.webm), is never written over, and grows as it is
// written: a player reads it meanwhile. The disk is never on the
// broadcast's path: the relay hands packets over a bounded queue (full, a
// packet is dropped and counted), and a write error (a full disk) stops
// that recording, logged and counted, and nothing else.
//
// # Endpoints
//
//   - PUT /rooms/{room}/recording starts the room's recording (a talker
//     must be on air), GET says whether it records, DELETE stops it; each
//     answers {recording, file, bytes}.
//   - GET /recordings lists the recordings ({name, room, started, bytes,
//     recording}), of ?room=… alone; GET /recordings/{name} downloads one
//     (ranges served).
//
// In a keyed server each needs the room's talk key, as a bearer token or
// in ?key= (a download link); the listing then needs ?room=. Errors are
// {code, message} with 400, 401, 403, 404, 409 or 503.
package recording
