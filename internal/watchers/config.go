package watchers

import (
	"log/slog"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/broadcast-service/broadcast/protocol"
)

// DefaultMaxWatchers is Config.MaxWatchers when it is 0.
const DefaultMaxWatchers = 10

// Peer is one watcher's media as a Table's user makes it (Config.New). The
// Table calls its methods from its own goroutines and pion's, never with a
// lock of its own held.
type Peer interface {
	// PeerConnection returns the watcher's PeerConnection, the same each
	// call: its tracks added, no offer made yet. The Table sets its
	// OnICECandidate and OnConnectionStateChange handlers, makes the
	// offer and closes it when the watcher is dropped.
	PeerConnection() *webrtc.PeerConnection
	// Live is called once, when the watcher first reaches phaseLive: its
	// PeerConnection connected (ICE and DTLS up), or a resume of it.
	Live()
	// Close releases what the Peer holds other than its PeerConnection.
	// It is called once, when the watcher is dropped, before the Table
	// closes the PeerConnection.
	Close()
}

// Config configures a Table of Peers of type P.
type Config[P Peer] struct {
	// New makes the Peer of the watcher id (the room's relay if relay),
	// when an offer is to be made to it. On an error it returns having
	// closed whatever it made; the error is logged and, with
	// RejectDropped, the watcher told. Required.
	New func(id string, relay bool) (P, error)
	// Send sends one of protocol's message structs as a `message`: the
	// offers, candidates and talk_rejects to watchers (Head.Sendto set),
	// and talk_ready {resumed: true}. It is called from several
	// goroutines; an error is logged at debug level (the watcher asks
	// again). Required.
	Send func(msg protocol.Typed) error
	// MaxWatchers is how many watchers are served at once, the room's
	// relay (a talk_request with relay: true) not counted; the next gets
	// talk_reject {reason: "full"}. 0 means DefaultMaxWatchers.
	MaxWatchers int
	// OfferTimeout is how long a watcher has to answer its offer before it
	// is dropped and told with talk_reject {reason: "timeout"}; 0 means
	// protocol.OfferTimeout.
	OfferTimeout time.Duration
	// Resume keeps a watcher whose socket left (Left, OrphanAll) while its
	// media connection is up for protocol.ResumeGrace, and takes it back
	// on a talk_request whose resume names its offer's ice-ufrag. Without
	// it such a watcher is dropped at once and resume is ignored.
	Resume bool
	// RejectDropped tells a watcher dropped for what it did not ask for
	// (its answer not taken, its offer not made, its media connection
	// failed) with talk_reject {reason: "dropped"}, as the relay does.
	RejectDropped bool
	// Report, if set, receives the stats report of the watcher id, from
	// its `stats` message; without it reports are ignored.
	Report func(id string, report protocol.Report)
	// Left, if set, is called with a watcher's socket id once it is
	// dropped.
	Left func(id string)
	// Resumed, if set, is called when a watcher known as the socket was
	// takes its media session back as the socket id (Config.Resume).
	Resumed func(id, was string)
	// OnAir, if set, returns how long the talker has been on air, sent in
	// each offer (protocol.Offer.OnAirMs); 0 sends none.
	OnAir func() time.Duration
	// Go, if set, runs f on a goroutine its owner waits for, and reports
	// whether it does (not once the owner is ending); nil runs f on a
	// goroutine of its own. Answering a watcher that offered waits for
	// the candidates on it (AnswerOffer).
	Go func(f func()) bool
	// Logger receives the Table's records; nil discards them.
	Logger *slog.Logger
}

// withDefaults returns cfg with its zero fields set to their defaults.
func (cfg Config[P]) withDefaults() Config[P] {
	if cfg.MaxWatchers <= 0 {
		cfg.MaxWatchers = DefaultMaxWatchers
	}
	if cfg.OfferTimeout <= 0 {
		cfg.OfferTimeout = protocol.OfferTimeout
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return cfg
}
