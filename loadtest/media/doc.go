// Package media loads a room's talker, or its relay, with light Go
// watchers: each enters the room, asks for the media, answers the offer
// and counts what comes, without decoding or recording anything.
//
// A Pool's watchers share one pion API (default codecs, a NACK generator
// and nothing else: no receiver reports, no TWCC, no mDNS). Per watcher
// there is its signaling session, one goroutine on the session's events,
// and the goroutines pion runs a PeerConnection with, one of which reads
// each remote track.
//
// For the video track a watcher counts packets received and expected (the
// extended sequence numbers' span, RFC 3550 §A.3: loss is their
// difference), frames (packets with the marker bit), and its time to first
// frame: from its first talk_request to the last packet of the first
// keyframe's frame received whole (every sequence number from the packet
// that begins the keyframe to the marker). Audio is read and dropped.
//
// The scenarios: Steady (N watchers, then the server's CPU and memory per
// watcher, loss and frame rates over a window), Join (rounds of k watchers
// joining at once: time to first frame) and Sequence (watchers joining one
// after another, each once the one before is live).
package media
