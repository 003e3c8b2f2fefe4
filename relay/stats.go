package relay

import (
	"sync/atomic"
	"time"
)

// Stats are a relay's figures at one time, for a metrics layer: totals
// since the relay began, but Rooms and Watchers (now).
type Stats struct {
	// Rooms is how many rooms are relayed now (Manager.Stats; 0 from a
	// Room's).
	Rooms int
	// Watchers is how many watchers are served now.
	Watchers int
	// Packets and Bytes (payload bytes) forwarded to watchers, NACKed
	// packets sent again not counted.
	Packets, Bytes uint64
	// PLIs sent to the talker: every watcher's keyframe requests merged.
	PLIs uint64
	// NACKsServed is the packets sent again from the shared buffer.
	NACKsServed uint64
	// Started is the watchers whose video started; KeyframeStarts, of
	// them, those whose first packet began a keyframe (all, but for a
	// talker's codec whose keyframes the relay cannot tell).
	Started, KeyframeStarts uint64
	// GOPReplays is the watchers started on the cached group of pictures
	// (a start on a keyframe, replayed rather than waited for), per video
	// track.
	GOPReplays uint64
	// FirstPacketWait is the time from each started watcher's media path
	// coming up to its first video packet, summed: divided by Started, the
	// mean wait for a keyframe.
	FirstPacketWait time.Duration
	// SentDatagrams is the media datagrams (SRTP and SRTCP) the relay's
	// UDP port wrote, in SendCalls system calls (sendmmsg(2), many
	// datagrams each); SendDropped, those dropped for a socket not
	// draining or a write that failed. All 0 without Config.UDPPort.
	SentDatagrams, SendCalls, SendDropped uint64
}

// add adds o's figures to s's.
func (s Stats) add(o Stats) Stats {
	s.Rooms += o.Rooms
	s.Watchers += o.Watchers
	s.Packets += o.Packets
	s.Bytes += o.Bytes
	s.PLIs += o.PLIs
	s.NACKsServed += o.NACKsServed
	s.Started += o.Started
	s.KeyframeStarts += o.KeyframeStarts
	s.GOPReplays += o.GOPReplays
	s.FirstPacketWait += o.FirstPacketWait
	s.SentDatagrams += o.SentDatagrams
	s.SendCalls += o.SendCalls
	s.SendDropped += o.SendDropped
	return s
}

// counters are a Room's running totals.
type counters struct {
	packets, bytes, plis, nacksServed atomic.Uint64
	firstPackets, keyframeStarts      atomic.Uint64
	firstPacketNanos                  atomic.Uint64
}

// Stats returns the room's figures now.
func (r *Room) Stats() Stats {
	c := &r.stats
	var replays uint64
	r.mu.Lock()
	for _, t := range r.tracks {
		for _, up := range t.layers.all() {
			replays += up.Counters.GOPReplays.Load()
		}
	}
	r.mu.Unlock()
	return Stats{
		Watchers: r.Watchers(),
		Packets:  c.packets.Load(), Bytes: c.bytes.Load(),
		PLIs: c.plis.Load(), NACKsServed: c.nacksServed.Load(),
		Started: c.firstPackets.Load(), KeyframeStarts: c.keyframeStarts.Load(),
		GOPReplays:      replays,
		FirstPacketWait: time.Duration(c.firstPacketNanos.Load()),
	}
}
