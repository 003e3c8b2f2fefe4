package broadcaster

import (
	"time"

	"github.com/broadcast-service/broadcast/protocol"
)

// phase is where a watcher's media session stands, as the talker sees it.
//
//	offered ──answer──▶ answered ──socket gone, media up──▶ orphaned
//	   │                   ▲                                   │
//	   │                   └────────────resumed────────────────┘
//	   └──────── no answer in OfferTimeout, bye, failed, ... ──▶ gone
//
// Every phase can end in gone. Offered and orphaned each have a deadline,
// after which the watcher is dropped.
type phase int

const (
	// phaseOffered: an offer is out; the answer is awaited for
	// Options.OfferTimeout.
	phaseOffered phase = iota
	// phaseAnswered: the answer is taken; the media connection is coming
	// up, or up.
	phaseAnswered
	// phaseOrphaned: the watcher's socket (or this talker's) is gone while
	// the media is up; it has protocol.ResumeGrace to resume.
	phaseOrphaned
	// phaseGone: dropped; its PeerConnection is closed.
	phaseGone
)

func (p phase) String() string {
	switch p {
	case phaseOffered:
		return "offered"
	case phaseAnswered:
		return "answered"
	case phaseOrphaned:
		return "orphaned"
	case phaseGone:
		return "gone"
	}
	return "unknown"
}

// deadline is how long a watcher may stay in a phase, or 0 for no limit.
func (b *Broadcaster) deadline(ph phase) time.Duration {
	switch ph {
	case phaseOffered:
		return b.opts.OfferTimeout
	case phaseOrphaned:
		return protocol.ResumeGrace
	}
	return 0
}

// moveLocked puts p in phase to, stopping the last phase's deadline and
// starting the new one's; it reports false, changing nothing, if p is gone.
// Each move starts a new epoch, so that a deadline that fires late for a
// phase p has left does nothing. b.mu must be held.
func (b *Broadcaster) moveLocked(p *peer, to phase) bool {
	if p.phase == phaseGone {
		return false
	}
	if p.timer != nil {
		p.timer.Stop()
		p.timer = nil
	}
	p.phase = to
	p.epoch++
	if d := b.deadline(to); d > 0 {
		epoch := p.epoch
		p.timer = time.AfterFunc(d, func() { b.expire(p, epoch) })
	}
	return true
}

// move is moveLocked, taking b.mu.
func (b *Broadcaster) move(p *peer, to phase) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.moveLocked(p, to)
}

// expire: p stayed in a phase past its deadline (epoch names which). An
// unanswered offer is dropped with talk_reject {reason: "timeout"}, as a
// watcher that asks and never answers would otherwise hold a place for
// good; an orphan that did not resume is dropped.
func (b *Broadcaster) expire(p *peer, epoch uint64) {
	b.mu.Lock()
	if p.epoch != epoch || p.phase == phaseGone {
		b.mu.Unlock()
		return
	}
	was, id := p.phase, p.id
	b.mu.Unlock()
	if !b.drop(p) {
		return
	}
	if was == phaseOffered {
		b.log.Info("watcher dropped: no answer", "watcher", id, "timeout", b.opts.OfferTimeout)
		_ = b.send(protocol.TalkReject{Head: protocol.Head{Type: protocol.TypeTalkReject, Sendto: id}, Reason: protocol.RejectTimeout})
	}
}
