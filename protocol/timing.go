package protocol

import "time"

// Timing both ends of the protocol rely on. The server serves each to the
// pages in its /config JSON, in milliseconds (see the names there).
const (
	// ResumeGrace is how long a media connection that is still up waits
	// for the other end's socket to come back and resume it (its
	// signaling node restarting) before it is closed (resumeGraceMs).
	ResumeGrace = 10 * time.Second
	// RetryInterval is how long a watcher waits for its talker's offer, or
	// for the media once it answered, before it asks again: the same
	// talk_request or answer (retryMs).
	RetryInterval = 3 * time.Second
	// ReportInterval is how often a watcher sends its talker a Stats
	// report while the media is up (reportMs).
	ReportInterval = 2 * time.Second
	// RetakeWindow is how long an open room stays its talker's after the
	// talker's socket is lost on air (between talk_ready and end_talk):
	// only a socket presenting the talker's retake token may take it
	// meanwhile, and the talker tries for as long (retakeMs).
	RetakeWindow = 30 * time.Second
	// OfferTimeout is how long a talker waits for a watcher's answer to
	// its offer before it drops the watcher with a TalkReject "timeout" and
	// frees its place (offerTimeoutMs, the server's -offer-timeout).
	OfferTimeout = 15 * time.Second
)

// MaxPendingCandidates bounds the trickled ICE candidates a peer keeps for
// a remote description still to come; later ones are dropped
// (maxPendingCandidates).
const MaxPendingCandidates = 100
