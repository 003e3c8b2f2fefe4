package watchers

import (
	"log/slog"
	"sync"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/broadcast-service/broadcast/internal/rtc"
	"github.com/broadcast-service/broadcast/protocol"
)

// Table is the watchers a talker serves, keyed by socket id, each with its
// Peer and its phase. Its methods are safe for concurrent use; Request and
// Handle are meant to be called from the one goroutine that reads the
// signaling, in the order messages come.
type Table[P Peer] struct {
	cfg Config[P]
	log *slog.Logger

	mu sync.Mutex // guards m, and each entry's id, phase, epoch, timer, offerSent, early and wasLive
	m  map[string]*entry[P]
}

// entry is one watcher in the Table.
type entry[P Peer] struct {
	id      string      // a watcher resumes under a new id
	phase   phase       // changed by moveLocked only
	epoch   uint64      // moves so far, to tell a stale deadline
	timer   *time.Timer // the phase's deadline, if it has one
	wasLive bool        // Peer.Live was called
	relay   bool        // the room's relay, served beyond Config.MaxWatchers; set once
	// offerSent: the offer went to the watcher; the candidates gathered
	// before (early) wait for it.
	offerSent bool
	early     []*webrtc.ICECandidate
	// offer is the watcher's own SDP offer, when it made one
	// (AnswerOffer); set once.
	offer string

	peer       P
	candidates rtc.EarlyCandidates // the watcher's, held until its answer
}

// New returns an empty Table configured by cfg (see Config for its
// defaults).
func New[P Peer](cfg Config[P]) *Table[P] {
	cfg = cfg.withDefaults()
	return &Table[P]{cfg: cfg, log: cfg.Logger, m: map[string]*entry[P]{}}
}

// Len returns how many watchers are served (offered to, connected or
// orphaned), the room's relay among them if it is one.
func (t *Table[P]) Len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.m)
}

// Direct returns how many watchers are served other than the room's
// relay: those Config.MaxWatchers bounds.
func (t *Table[P]) Direct() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := 0
	for _, e := range t.m {
		if !e.relay {
			n++
		}
	}
	return n
}

// Peers returns every served watcher's Peer, in no order.
func (t *Table[P]) Peers() []P { return t.peers(false) }

// Live returns the Peers of the watchers whose media path is up and whose
// socket is here (phase live), in no order.
func (t *Table[P]) Live() []P { return t.peers(true) }

// peers returns the Peers of every watcher, or of those live if live.
func (t *Table[P]) peers(live bool) []P {
	t.mu.Lock()
	defer t.mu.Unlock()
	all := make([]P, 0, len(t.m))
	for _, e := range t.m {
		if !live || e.phase == phaseLive {
			all = append(all, e.peer)
		}
	}
	return all
}

// Peer returns the Peer of the watcher served under the socket id, and
// false for none.
func (t *Table[P]) Peer(id string) (P, bool) {
	if e := t.entry(id); e != nil {
		return e.peer, true
	}
	var none P
	return none, false
}

func (t *Table[P]) entry(id string) *entry[P] {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.m[id]
}

func (t *Table[P]) entries() []*entry[P] {
	t.mu.Lock()
	defer t.mu.Unlock()
	all := make([]*entry[P], 0, len(t.m))
	for _, e := range t.m {
		all = append(all, e)
	}
	return all
}

func (t *Table[P]) idOf(e *entry[P]) string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return e.id
}

func (t *Table[P]) phaseOf(e *entry[P]) phase {
	t.mu.Lock()
	defer t.mu.Unlock()
	return e.phase
}

// drop moves e to gone, closes its Peer and PeerConnection and calls
// Config.Left; it reports false if e was gone already.
func (t *Table[P]) drop(e *entry[P]) bool {
	t.mu.Lock()
	if !t.moveLocked(e, phaseGone) {
		t.mu.Unlock()
		return false
	}
	if t.m[e.id] == e {
		delete(t.m, e.id)
	}
	id, n := e.id, len(t.m)
	t.mu.Unlock()
	e.peer.Close()
	_ = e.peer.PeerConnection().Close()
	t.log.Info("watcher left", "watcher", id, "watchers", n)
	if t.cfg.Left != nil {
		t.cfg.Left(id)
	}
	return true
}

// fail drops the watcher id for what it did not ask for, if it is served,
// and tells it with talk_reject {reason: "dropped"} under
// Config.RejectDropped.
func (t *Table[P]) fail(id string) {
	if e := t.entry(id); e != nil {
		t.drop(e)
	}
	if t.cfg.RejectDropped {
		t.reject(id, protocol.RejectDropped)
	}
}

// DropAll drops every watcher, closing its Peer and PeerConnection: the
// talker is going off air.
func (t *Table[P]) DropAll() {
	for _, e := range t.entries() {
		t.drop(e)
	}
}

// Left is the server saying the socket id left the room. A watcher of
// that id is orphaned under Config.Resume if its media connection is up,
// and dropped otherwise; any other id is ignored.
func (t *Table[P]) Left(id string) {
	if e := t.entry(id); e != nil {
		t.orphan(e)
	}
}

// OrphanAll orphans every watcher, as Left does each: the talker's own
// socket was lost, and the room heard it leave.
func (t *Table[P]) OrphanAll() {
	for _, e := range t.entries() {
		t.orphan(e)
	}
}

// orphan keeps e, whose watcher's socket is gone, for
// protocol.ResumeGrace if its media connection is up and Config.Resume is
// set (the watcher's signaling node may be restarting, and the watcher
// resume it), and drops it at once otherwise.
func (t *Table[P]) orphan(e *entry[P]) {
	if !t.cfg.Resume || e.peer.PeerConnection().ConnectionState() != webrtc.PeerConnectionStateConnected || !t.move(e, phaseOrphaned) {
		t.drop(e)
	}
}

// resume takes a watcher back under the socket id it asks from, on the
// media connection it still has: the one whose offer had the ICE username
// fragment ufrag. It reports false when there is none, and the request is
// served anew.
func (t *Table[P]) resume(id, ufrag string) bool {
	found := t.findSession(ufrag)
	if found == nil {
		return false
	}
	t.mu.Lock()
	old := found.id
	if found.phase == phaseGone {
		t.mu.Unlock()
		return false // dropped meanwhile
	}
	_, first := t.goLiveLocked(found, true)
	displaced := t.m[id]
	delete(t.m, old)
	found.id = id
	t.m[id] = found
	if displaced == found {
		displaced = nil
	}
	t.mu.Unlock()
	if displaced != nil {
		t.drop(displaced)
	}
	if first {
		found.peer.Live()
	}
	t.log.Info("watcher resumed", "watcher", id, "was", old)
	if t.cfg.Resumed != nil {
		t.cfg.Resumed(id, old)
	}
	t.send(protocol.TalkReady{Head: protocol.Head{Type: protocol.TypeTalkReady, Sendto: id}, Resumed: true})
	return true
}

// findSession returns the watcher whose media connection is up on the
// offer with ICE username fragment ufrag, or nil.
func (t *Table[P]) findSession(ufrag string) *entry[P] {
	for _, e := range t.entries() {
		pc := e.peer.PeerConnection()
		if pc.ConnectionState() != webrtc.PeerConnectionStateConnected {
			continue
		}
		if d := pc.LocalDescription(); d != nil && rtc.ICEUfrag(d.SDP) == ufrag {
			return e
		}
	}
	return nil
}

// send sends msg; a failure is logged, the watcher asks again.
func (t *Table[P]) send(msg protocol.Typed) {
	if err := t.cfg.Send(msg); err != nil {
		t.log.Debug("send", "type", msg.MessageType(), "err", err)
	}
}

// reject refuses the watcher id with talk_reject {reason}.
func (t *Table[P]) reject(id, reason string) {
	t.log.Info("watcher refused", "watcher", id, "reason", reason)
	t.send(protocol.TalkReject{Head: protocol.Head{Type: protocol.TypeTalkReject, Sendto: id}, Reason: reason})
}
