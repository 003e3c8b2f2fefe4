package signaling

import "time"

// Limits bound what clients may do. Zero fields take the defaults below.
type Limits struct {
	// MessageBytes is the largest `message` accepted, in bytes of JSON
	// (default 64 KiB); a larger one is refused with too_large.
	MessageBytes int
	// WatcherMessageBytes is the largest `message` a watcher may send its
	// talker (default 16 KiB: an SDP answer is a few KiB), and StatsBytes
	// the largest `stats` report (default 2 KiB). Larger ones are refused
	// with too_large.
	WatcherMessageBytes int
	StatsBytes          int
	// WatcherQueueBytes is how much of its talker's outbound queue one
	// watcher's unread messages may fill (default 64 KiB); all watchers
	// together may fill half of it. Past either, the watcher's message is
	// refused with talker_busy, and the talker is never evicted for it.
	WatcherQueueBytes int
	// MessagesPerSecond and MessageBurst are each socket's token bucket
	// (defaults 50/s and a burst of 200, room for a trickle-ICE burst). A
	// message over it is refused with rate_limited; a socket refused
	// AbuseRefusals times in a row is disconnected.
	MessagesPerSecond float64
	MessageBurst      int
	// EntersPerSecond and EnterBurst are each socket's token bucket for
	// `enter` (defaults 2/s and a burst of 10: a page enters once per
	// connection, and once a second while it retakes its room). An enter
	// over it is refused with rate_limited and counts toward
	// AbuseRefusals.
	EntersPerSecond float64
	EnterBurst      int
	// EnterTimeout is how long a socket may stay connected outside a
	// room (default 10 s) after connecting or after its last attempt to
	// enter; then it is told enter_timeout and closed.
	EnterTimeout time.Duration
	// RoomSockets is the most sockets in one room (default 500).
	RoomSockets int
	// AddrSockets is the most sockets from one remote address (default 100).
	AddrSockets int
	// Sockets is the most sockets in all (default 10000).
	Sockets int
}

// AbuseRefusals is how many messages in a row a socket may have refused
// for its rate before it is disconnected.
const AbuseRefusals = 100

// Default limits.
const (
	DefaultMessageBytes        = 64 << 10
	DefaultWatcherMessageBytes = 16 << 10
	DefaultStatsBytes          = 2 << 10
	DefaultWatcherQueueBytes   = 64 << 10
	DefaultMessagesPerSecond   = 50
	DefaultMessageBurst        = 200
	DefaultEntersPerSecond     = 2
	DefaultEnterBurst          = 10
	DefaultEnterTimeout        = 10 * time.Second
	DefaultRoomSockets         = 500
	DefaultAddrSockets         = 100
	DefaultSockets             = 10000
)

func (l Limits) withDefaults() Limits {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&l.MessageBytes, DefaultMessageBytes)
	def(&l.WatcherMessageBytes, DefaultWatcherMessageBytes)
	def(&l.StatsBytes, DefaultStatsBytes)
	def(&l.WatcherQueueBytes, DefaultWatcherQueueBytes)
	def(&l.MessageBurst, DefaultMessageBurst)
	def(&l.EnterBurst, DefaultEnterBurst)
	def(&l.RoomSockets, DefaultRoomSockets)
	def(&l.AddrSockets, DefaultAddrSockets)
	def(&l.Sockets, DefaultSockets)
	if l.MessagesPerSecond <= 0 {
		l.MessagesPerSecond = DefaultMessagesPerSecond
	}
	if l.EnterTimeout <= 0 {
		l.EnterTimeout = DefaultEnterTimeout
	}
	if l.EntersPerSecond <= 0 {
		l.EntersPerSecond = DefaultEntersPerSecond
	}
	return l
}

// nowFunc is the clock; tests replace it through Options.Now.
type nowFunc func() time.Time
