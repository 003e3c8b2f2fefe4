package relay

import (
	"log/slog"
	"time"

	"github.com/broadcast-service/broadcast/protocol"
)

// DefaultMaxWatchers is how many watchers one room's relay serves when
// Config.MaxWatchers is 0.
const DefaultMaxWatchers = 200

// How a watcher's first frame is asked for once its media path is up: a
// keyframe request upstream at once and every firstFrameAskEvery, up to
// firstFrameAskTries in all, until the watcher's video starts. Requests of
// watchers joining together are merged by the Upstream's throttle.
const (
	firstFrameAskEvery = 300 * time.Millisecond
	firstFrameAskTries = 10
)

// tracksWait is how long after the talker's first track its offer's others
// may take to come before the watchers waiting are served without them.
const tracksWait = 2 * time.Second

// senderReportEvery is how often each watcher gets a sender report for
// each of its tracks.
const senderReportEvery = time.Second

// Config configures the relay of every room of a process.
type Config struct {
	// UDPPort is the one UDP port every PeerConnection's ICE uses (toward
	// talkers and watchers alike), on every interface, whose media go out
	// in batches (one system call for many datagrams); 0 lets each
	// PeerConnection take ephemeral ports of its own, one write each.
	UDPPort int
	// PublicIP, if set, is the address advertised in the relay's host
	// candidates of its family (IPv4 or IPv6) in place of the interfaces'
	// own: a relay behind a 1:1 NAT, or in a container whose port is
	// published.
	PublicIP string
	// MaxWatchers is how many watchers one room's relay serves; the next
	// gets talk_reject {reason: "full"}. 0 means DefaultMaxWatchers.
	MaxWatchers int
	// OfferTimeout is how long a watcher has to answer the relay's offer
	// before it is dropped with talk_reject {reason: "timeout"}, and the
	// talker to offer its media from the relay's start before the relay
	// ends; 0 means protocol.OfferTimeout.
	OfferTimeout time.Duration
	// GOPCacheBytes bounds each video track's cached group of pictures
	// (UpstreamConfig.GOPCacheBytes), from which a new watcher starts at
	// once: 0 means DefaultGOPCacheBytes, below 0 no cache (a new watcher
	// waits for the keyframe asked of the talker).
	GOPCacheBytes int
	// Logger receives the relay's records; nil discards them.
	Logger *slog.Logger
}

// withDefaults returns cfg with its zero fields set to their defaults.
func (cfg Config) withDefaults() Config {
	if cfg.MaxWatchers <= 0 {
		cfg.MaxWatchers = DefaultMaxWatchers
	}
	if cfg.OfferTimeout <= 0 {
		cfg.OfferTimeout = protocol.OfferTimeout
	}
	if cfg.GOPCacheBytes == 0 {
		cfg.GOPCacheBytes = DefaultGOPCacheBytes
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return cfg
}
