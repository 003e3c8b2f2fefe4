package rtc

import "time"

// Bounds on a watcher's way in, shared by the Go peers and, through the
// server's /config JSON (offerTimeoutMs, maxPendingCandidates), by the
// pages.
const (
	// OfferTimeout is how long a talker waits for a watcher's answer to its
	// offer before it drops the watcher and frees its place.
	OfferTimeout = 15 * time.Second
	// MaxPendingCandidates bounds the trickled ICE candidates a peer keeps
	// for a remote description still to come; later ones are dropped.
	MaxPendingCandidates = 100
)
