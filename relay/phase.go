package relay

import "time"

// phase is where a watcher's media session stands, as the relay sees it.
//
//	new ──offer sent──▶ offered ──answer──▶ answered ──media path up──▶ live
//	   │                   │                          │
//	   └── no answer in OfferTimeout, bye, failed, left, the relay ending ──▶ gone
//
// Every phase can end in gone; offered has a deadline.
type phase int

const (
	// phaseNew: its PeerConnection is being made.
	phaseNew phase = iota
	// phaseOffered: an offer is out; the answer is awaited for
	// Config.OfferTimeout.
	phaseOffered
	// phaseAnswered: the answer is taken; ICE and DTLS are coming up.
	phaseAnswered
	// phaseLive: the media path is up (DTLS done): the watcher's tracks
	// are attached to the talker's and its first keyframe asked for.
	phaseLive
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
	case phaseGone:
		return "gone"
	}
	return "unknown"
}

// allowed reports whether a watcher may move from one phase to another:
// only forward, and never out of gone.
func (p phase) allowed(to phase) bool { return p != phaseGone && to > p }

// moveLocked puts w in phase to, stopping the last phase's deadline and
// starting the new one's; it reports false, changing nothing, for a move
// allowed does not allow. Each move starts a new epoch, so that a
// deadline firing late for a phase w has left does nothing. r.mu must be
// held.
func (r *Room) moveLocked(w *watcher, to phase) bool {
	if !w.phase.allowed(to) {
		return false
	}
	if w.timer != nil {
		w.timer.Stop()
		w.timer = nil
	}
	w.phase = to
	w.epoch++
	if to == phaseOffered {
		epoch := w.epoch
		w.timer = time.AfterFunc(r.cfg.OfferTimeout, func() { r.expire(w, epoch) })
	}
	return true
}

// move is moveLocked, taking r.mu.
func (r *Room) move(w *watcher, to phase) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.moveLocked(w, to)
}
