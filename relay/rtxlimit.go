package relay

import "time"

// What one watcher's NACKs may cost: a watcher's RTCP is untrusted, and a
// few hundred bytes of NACK can name a thousand packets, or one packet a
// thousand times.
const (
	// resendInterval is the least time between two retransmissions of one
	// packet to one watcher: a NACK repeated sooner (within about a round
	// trip) is not answered again.
	resendInterval = 100 * time.Millisecond
	// resendRecord is the number of a watcher's latest retransmissions
	// remembered for resendInterval, a power of two (indexed by the
	// watcher's sequence number).
	resendRecord = 256
	// rtxRate and rtxBurst are a watcher's budget of retransmissions per
	// track: rtxRate packets a second on average (about 40% of the packets
	// of a 2.5 Mbit/s video stream, twice those of an Opus stream), up to
	// rtxBurst at once. A NACKed packet past the budget is missed.
	rtxRate  = 100
	rtxBurst = 100
	// watcherKeyframeInterval is the least time between two of a
	// watcher's PLIs or FIRs passed on to the Upstream, before the
	// Upstream's own throttle shared by every watcher: one watcher
	// asking without end cannot hold the talker at a keyframe every
	// DefaultKeyframeInterval.
	watcherKeyframeInterval = time.Second
)

// rtxLimit is one watcher's record of its retransmissions: the packets
// sent again lately, and a token bucket.
type rtxLimit struct {
	sent   []resent // resendRecord entries, allocated at the first NACK
	tokens float64
	last   time.Time // when tokens was last filled; zero before the first NACK
}

// resent is one retransmission: the watcher's extended number and when.
type resent struct {
	out uint64
	at  time.Time
}

// allow reports whether the packet out may be sent again to the watcher
// at now, and if so counts it as sent.
func (l *rtxLimit) allow(out uint64, now time.Time) bool {
	if l.sent == nil {
		l.sent = make([]resent, resendRecord)
		l.tokens, l.last = rtxBurst, now
	}
	if dt := now.Sub(l.last); dt > 0 {
		l.tokens = min(l.tokens+dt.Seconds()*rtxRate, rtxBurst)
		l.last = now
	}
	r := &l.sent[out&(resendRecord-1)]
	if r.out == out && now.Sub(r.at) < resendInterval {
		return false
	}
	if l.tokens < 1 {
		return false
	}
	l.tokens--
	*r = resent{out: out, at: now}
	return true
}
