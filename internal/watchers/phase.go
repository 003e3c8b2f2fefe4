package watchers

import (
	"time"

	"github.com/broadcast-service/broadcast/protocol"
)

// phase is where a watcher's media session stands, as its talker (the Go
// talker or the relay) sees it.
//
//	new ──offer sent──▶ offered ──answer──▶ answered ──media up──▶ live
//	                                           │                   │ ▲
//	                                           └──socket gone, media up──▶ orphaned
//	                                                               └─resumed─┘
//
// Every phase can end in gone: no answer in OfferTimeout, bye, the media
// connection failed, the socket gone (with the media down or without
// Config.Resume), an orphan not resumed within protocol.ResumeGrace, the
// Table's user ending. Offered and orphaned each have a deadline, after
// which the watcher is dropped. Moves go forward only, but for orphaned:
// it is reached from answered or live (again from orphaned, its grace
// starting over) and left for live (resumed) or gone.
type phase int

const (
	// phaseNew: its PeerConnection is made; the offer is being made.
	phaseNew phase = iota
	// phaseOffered: an offer is out; the answer is awaited for
	// Config.OfferTimeout.
	phaseOffered
	// phaseAnswered: the answer is taken; ICE and DTLS are coming up.
	phaseAnswered
	// phaseLive: the media path is up (the PeerConnection connected);
	// Peer.Live was called.
	phaseLive
	// phaseOrphaned: the watcher's socket (or the talker's own) is gone
	// while the media is up; it has protocol.ResumeGrace to resume.
	phaseOrphaned
	// phaseGone: dropped; its PeerConnection is closed.
	phaseGone
)

func (p phase) String() string {
	switch p {
	case phaseNew:
		return "new"
	case phaseOffered:
		return "offered"
	case phaseAnswered:
		return "answered"
	case phaseLive:
		return "live"
	case phaseOrphaned:
		return "orphaned"
	case phaseGone:
		return "gone"
	}
	return "unknown"
}

// allowed reports whether a watcher may move from phase p to phase to:
// forward only and never out of gone, but for orphaned (see phase).
func (p phase) allowed(to phase) bool {
	switch {
	case p == phaseGone:
		return false
	case to == phaseOrphaned:
		return p == phaseAnswered || p == phaseLive || p == phaseOrphaned
	case p == phaseOrphaned:
		return to == phaseLive || to == phaseGone
	}
	return to > p
}

// deadline is how long a watcher may stay in phase ph, or 0 for no limit.
func (t *Table[P]) deadline(ph phase) time.Duration {
	switch ph {
	case phaseOffered:
		return t.cfg.OfferTimeout
	case phaseOrphaned:
		return protocol.ResumeGrace
	}
	return 0
}

// moveLocked puts e in phase to, stopping the last phase's deadline and
// starting the new one's; it reports false, changing nothing, for a move
// allowed does not allow. Each move starts a new epoch, so that a deadline
// that fires late for a phase e has left does nothing. t.mu must be held.
func (t *Table[P]) moveLocked(e *entry[P], to phase) bool {
	if !e.phase.allowed(to) {
		return false
	}
	if e.timer != nil {
		e.timer.Stop()
		e.timer = nil
	}
	e.phase = to
	e.epoch++
	if d := t.deadline(to); d > 0 {
		epoch := e.epoch
		e.timer = time.AfterFunc(d, func() { t.expire(e, epoch) })
	}
	return true
}

// move is moveLocked, taking t.mu.
func (t *Table[P]) move(e *entry[P], to phase) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.moveLocked(e, to)
}

// goLiveLocked moves e to live, from any phase before it or from
// orphaned if resumed; it reports whether e moved, and whether this is the
// first time e is live, when Peer.Live is due. t.mu must be held.
func (t *Table[P]) goLiveLocked(e *entry[P], resumed bool) (moved, first bool) {
	if e.phase == phaseLive || (e.phase == phaseOrphaned && !resumed) || !t.moveLocked(e, phaseLive) {
		return false, false
	}
	first = !e.wasLive
	e.wasLive = true
	return true, first
}

// expire: e stayed in a phase past its deadline (epoch names which). An
// unanswered offer is dropped with talk_reject {reason: "timeout"}, as a
// watcher that asks and never answers would otherwise hold a place for
// good; an orphan that did not resume is dropped.
func (t *Table[P]) expire(e *entry[P], epoch uint64) {
	t.mu.Lock()
	if e.epoch != epoch || e.phase == phaseGone {
		t.mu.Unlock()
		return
	}
	was, id := e.phase, e.id
	t.mu.Unlock()
	if !t.drop(e) {
		return
	}
	if was == phaseOffered {
		t.log.Info("watcher dropped: no answer", "watcher", id, "timeout", t.cfg.OfferTimeout)
		t.reject(id, protocol.RejectTimeout)
	}
}
