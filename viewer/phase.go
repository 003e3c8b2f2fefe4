package viewer

import "time"

// phase is where the watcher stands, as watch.html shows it:
//
//	idle ──entered──▶ waiting ──offer──▶ connecting ──media up──▶ live
//	                                                             │  ▲
//	          ┌──────── own socket back under a new id ──────────┤  │
//	          ▼                                                  ▼  │
//	       resuming ◀──talker back under a new id── talker away    │
//	          │                                          │          │
//	          └──────── talk_ready {resumed: true} ──────┴──────────┘
//
// Resuming and talker away each end in ended (talker_left) when
// protocol.ResumeGrace passes, the media goes, or the talker offers a new
// session; full and ended are final.
type phase int

const (
	// phaseIdle: not yet in the room.
	phaseIdle phase = iota
	// phaseWaiting: a talk_request is out and no offer has come; asked
	// again every Options.Retry.
	phaseWaiting
	// phaseConnecting: the offer is answered; the media connection is
	// coming up (the answer is repeated every Options.Retry meanwhile).
	phaseConnecting
	// phaseLive: the media connection is up.
	phaseLive
	// phaseResuming: back under a new socket id with the media up, asking
	// the talker to take the session back.
	phaseResuming
	// phaseTalkerAway: the talker's socket has gone with the media up; it
	// has protocol.ResumeGrace to come back.
	phaseTalkerAway
	// phaseQueued: the talker refused for now with talk_reject {reason:
	// "full", position}: it keeps this watcher's place in its queue and
	// offers when one frees. Waits for as long as it takes, asking again
	// every Options.Retry (which keeps the place).
	phaseQueued
	// phaseFull: the talker refused with talk_reject {reason: "full"}.
	phaseFull
	// phaseEnded: watching is over (Stats.Ended says why).
	phaseEnded
)

func (p phase) String() string {
	return [...]string{"idle", "waiting", "connecting", "live", "resuming", "talker away", "in line", "full", "ended"}[p]
}

// away reports whether the media session is waiting to be resumed, by
// either end.
func (p phase) away() bool { return p == phaseResuming || p == phaseTalkerAway }

// moveTo is the one place the watcher's phase changes. Staying in a phase
// keeps the time it began, and so does a move between the two away phases:
// the session has protocol.ResumeGrace from when it was first away.
// Signaling loop only.
func (v *Viewer) moveTo(to phase) {
	if v.phase == to {
		return
	}
	v.log.Info("phase", "from", v.phase.String(), "to", to.String())
	if !v.phase.away() || !to.away() {
		v.since = time.Now()
	}
	v.phase = to
}

// inPhase returns how long the watcher has been in its phase.
func (v *Viewer) inPhase() time.Duration { return time.Since(v.since) }
