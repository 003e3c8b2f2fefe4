package rtc

import (
	"sync"

	"github.com/pion/webrtc/v4"

	"github.com/broadcast-service/broadcast/protocol"
)

// EarlyCandidates adds trickled ICE candidates to a PeerConnection once its
// remote description is set, and holds those that come before: a peer's
// candidates can overtake its offer or answer, as pion trickles from a
// goroutine of its own. It holds at most protocol.MaxPendingCandidates and
// drops any more. The zero value holds every candidate until Ready; its
// methods are safe for concurrent use.
type EarlyCandidates struct {
	mu   sync.Mutex
	pc   *webrtc.PeerConnection // set by Ready: candidates from `from` go straight to it
	from string
	held []heldCandidate
}

type heldCandidate struct {
	from string
	init webrtc.ICECandidateInit
}

// ICECandidate is a `candidate` message's trickled candidate, for pion.
func ICECandidate(m protocol.Message) webrtc.ICECandidateInit {
	return webrtc.ICECandidateInit{Candidate: m.Candidate, SDPMid: m.SDPMid, SDPMLineIndex: m.SDPMLineIndex}
}

// Add adds a candidate from the socket id from (empty for a peer that has
// only one) to the PeerConnection if Ready was called for it, and holds it
// otherwise. It reports false when the candidate is dropped: an empty one
// (the end of candidates), one the PeerConnection refuses, or one over the
// cap.
func (e *EarlyCandidates) Add(from string, c webrtc.ICECandidateInit) bool {
	if c.Candidate == "" {
		return false
	}
	e.mu.Lock()
	pc := e.pc
	if pc == nil || from != e.from {
		defer e.mu.Unlock()
		if len(e.held) >= protocol.MaxPendingCandidates {
			return false
		}
		e.held = append(e.held, heldCandidate{from, c})
		return true
	}
	e.mu.Unlock()
	return pc.AddICECandidate(c) == nil
}

// Ready says pc has its remote description from the socket id from: the
// candidates held from it are added, the others' dropped, and later ones
// from it go straight to pc.
func (e *EarlyCandidates) Ready(pc *webrtc.PeerConnection, from string) {
	e.mu.Lock()
	held := e.held
	e.pc, e.from, e.held = pc, from, nil
	e.mu.Unlock()
	for _, h := range held {
		if h.from == from {
			_ = pc.AddICECandidate(h.init)
		}
	}
}

// Hold makes later candidates wait for the next Ready: a new remote
// description is coming.
func (e *EarlyCandidates) Hold() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.pc, e.from = nil, ""
}

// IsReady reports whether Ready has been called: a remote description is
// set.
func (e *EarlyCandidates) IsReady() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.pc != nil
}

// Held returns how many candidates are held.
func (e *EarlyCandidates) Held() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.held)
}
