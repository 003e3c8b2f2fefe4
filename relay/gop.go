package relay

import "time"

// DefaultGOPCacheBytes is the bound on a video track's cached group of
// pictures when Config.GOPCacheBytes is 0: 512 KiB of payload, a GOP of
// about 1.6 s of 2.5 Mbit/s video. A longer GOP is not cached, and its
// watchers wait for a keyframe as without a cache.
//
// The cache is on by default for what it measured (BenchmarkRelayJoin in
// cmd/broadcast, a Go talker of 1 s groups at 30 fps on loopback, 20 joins
// each, load average 1.7 to 2.8 on 2 cores): the time from talk_request to
// the first keyframe, median / p90, one watcher joining at a time 97 / 108
// ms asking the talker (PLI) and 12 / 33 ms from the cache; five joining
// together 93 / 122 ms and 24 / 98 ms. Every watcher counted at least the
// 30 frames a second sent (no frame missing, no packet lost) either way;
// from the cache, the replayed frames come on top (a median of 36.5 a
// second over the first 2 s). No PLI goes to the talker for such a
// watcher, so the others' stream gets no extra keyframe either.
const DefaultGOPCacheBytes = 512 << 10

// gopReplaySpeed is how many times faster than it was sent a replayed
// group of pictures plays: its frames' timestamps are drawn toward that of
// its last frame, which keeps its own, as do the live frames that follow.
// A watcher's decoder gets every frame since the keyframe it needs, in a
// burst, and its player shows them in a moment (a 1 s group in 62 ms)
// rather than a group's length behind the talker: the replayed frames'
// timestamps map, through the talker's sender reports, to the moment just
// before the live ones, so video and audio stay in sync and the watcher's
// latency is not raised.
const gopReplaySpeed = 16

// gopReplayTS returns the timestamp a replayed packet of upstream
// timestamp ts carries (before the watcher's offset), last being the
// upstream timestamp of the last frame replayed: last less a
// gopReplaySpeed-th of how far ts is behind it; ts itself if it is not
// behind.
func gopReplayTS(ts, last uint32) uint32 {
	behind := last - ts
	if int32(behind) <= 0 {
		return ts
	}
	return last - behind/gopReplaySpeed
}

// gopCache is where an upstream video track's current group of pictures
// lies in its packet buffer: the packets from the first of the latest
// keyframe's frame to the highest. The packets are the buffer's own, not
// copies. Written and read by the Upstream's writer (under writeMu).
type gopCache struct {
	limit int    // payload bytes kept at most; 0 keeps none
	start uint64 // extended number of the keyframe's frame's first packet; 0 for none
	bytes int    // payload bytes from start to the highest packet
}

// keep updates the cached group of pictures with the packet in s, just
// stored: a keyframe's packet begins a new one, from the first packet of
// its frame (an H.264 access unit's delimiter or SEI may go before); a
// group that outgrows the limit or the buffer is no longer cached.
func (u *Upstream) keep(s *slot) {
	g := &u.gop
	switch {
	case s.key && s.ext > g.start:
		start := s.ext
		for range len(u.buf.slots) - 1 {
			prev := u.buf.slot(start - 1)
			if prev.ext != start-1 || prev.pkt.Timestamp != s.pkt.Timestamp {
				break
			}
			start--
		}
		g.start, g.bytes = start, 0
		for e := start; e <= u.highest; e++ {
			if p := u.buf.slot(e); p.ext == e {
				g.bytes += len(p.pkt.Payload)
			}
		}
	case g.start != 0 && s.ext > g.start:
		g.bytes += len(s.pkt.Payload)
	default:
		return
	}
	if g.bytes > g.limit || u.highest-g.start >= uint64(len(u.buf.slots)) {
		g.start, g.bytes = 0, 0
	}
}

// replay starts d, if it is waiting and never started, on the cached
// group of pictures: it is sent every packet of it in the buffer, its
// sequence numbers mapped as for live packets, so that those that follow
// continue them, and its timestamps drawn toward the last one's
// (gopReplayTS), which the live ones continue. It reports whether d started so. Called with
// writeMu held.
func (u *Upstream) replay(d *Downstream) bool {
	g := &u.gop
	if g.start == 0 {
		return false
	}
	first := u.buf.slot(g.start)
	if first.ext != g.start {
		return false
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.up != u || d.state != Waiting || d.begun {
		return false
	}
	absSendTime(time.Now(), &u.sent)
	d.start(u, first)
	d.replayHigh, d.replayTS = d.outExt(u.highest), u.buf.slot(u.highest).pkt.Timestamp
	n := uint64(0)
	for e := g.start; e <= u.highest; e++ {
		if s := u.buf.slot(e); s.ext == e {
			d.send(e, &s.pkt, s.at)
			n++
		}
	}
	u.Counters.GOPReplays.Add(1)
	u.Counters.GOPReplayPackets.Add(n)
	return true
}
