package watchers

import (
	"fmt"

	"github.com/pion/webrtc/v4"

	"github.com/broadcast-service/broadcast/internal/rtc"
	"github.com/broadcast-service/broadcast/protocol"
)

// Request serves a talk_request from the watcher id (the room's relay if
// relay): under Config.Resume a resume of the media session whose offer
// had the ice-ufrag resume (talk_ready {resumed: true}); the same offer
// again if one is out (the same session, with the candidates gathered
// since), so that an answer to either copy fits; talk_reject
// {reason: "full"} over Config.MaxWatchers (never to the relay); or else
// a new offer, replacing any session the watcher had. An offer that cannot
// be made is logged, and the watcher told under Config.RejectDropped.
func (t *Table[P]) Request(id, resume string, relay bool) {
	if t.cfg.Resume && resume != "" && t.resume(id, resume) {
		return
	}
	t.mu.Lock()
	e := t.m[id]
	offered := e != nil && e.phase == phaseOffered
	t.mu.Unlock()
	if offered {
		// Asked again while the offer is out: it may have been lost, and
		// the candidates sent after it with it. The local description
		// (set before the offer went) is the same session with the
		// candidates gathered so far.
		t.log.Debug("offer repeated", "watcher", id)
		sdp := e.peer.PeerConnection().LocalDescription().SDP
		t.send(protocol.Offer{Head: protocol.Head{Type: protocol.TypeOffer, Sendto: id}, SDP: sdp, OnAirMs: t.onAir()})
		return
	}
	if e != nil {
		t.drop(e)
	}
	if !relay && t.Direct() >= t.cfg.MaxWatchers {
		t.log.Info("watcher refused: full", "watcher", id, "max", t.cfg.MaxWatchers)
		t.send(protocol.TalkReject{Head: protocol.Head{Type: protocol.TypeTalkReject, Sendto: id}, Reason: protocol.RejectFull})
		return
	}
	if err := t.offer(id, relay); err != nil {
		t.log.Warn("offer failed", "watcher", id, "err", err)
		t.fail(id)
	}
}

// offer makes the watcher id's Peer (Config.New), puts it in the Table and
// sends it an offer.
func (t *Table[P]) offer(id string, relay bool) error {
	p, err := t.cfg.New(id, relay)
	if err != nil {
		return err
	}
	e := &entry[P]{id: id, relay: relay, peer: p}
	pc := p.PeerConnection()
	pc.OnICECandidate(func(c *webrtc.ICECandidate) { t.localCandidate(e, c) })
	pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) { t.connection(e, s) })
	t.mu.Lock()
	t.m[id] = e
	n := len(t.m)
	t.mu.Unlock()

	offer, err := pc.CreateOffer(nil)
	if err != nil {
		return fmt.Errorf("create offer: %w", err)
	}
	if err := pc.SetLocalDescription(offer); err != nil {
		return fmt.Errorf("set local description: %w", err)
	}
	t.mu.Lock()
	offered := t.moveLocked(e, phaseOffered)
	t.mu.Unlock()
	if !offered {
		return fmt.Errorf("offer to %s: %w", id, ErrDropped)
	}
	if relay {
		t.log.Info("relay joined", "relay", id, "watchers", n)
	} else {
		t.log.Info("watcher joined", "watcher", id, "watchers", n)
	}
	t.send(protocol.Offer{Head: protocol.Head{Type: protocol.TypeOffer, Sendto: id}, SDP: offer.SDP, OnAirMs: t.onAir()})
	t.mu.Lock()
	e.offerSent = true
	early, to := e.early, e.id
	e.early = nil
	t.mu.Unlock()
	for _, c := range early {
		t.send(rtc.CandidateMessage(c, to))
	}
	return nil
}

// localCandidate sends the watcher of e one of the candidates its
// PeerConnection gathered (trickle ICE), or holds it until the offer is
// sent: gathering starts with the local description, before the offer
// goes, and a watcher drops a candidate of a session it has no offer for
// (watch.html does). Lost, it would leave a watcher whose own candidates
// the talker cannot use (mDNS names) with no pair to check.
func (t *Table[P]) localCandidate(e *entry[P], c *webrtc.ICECandidate) {
	if c == nil {
		return
	}
	t.mu.Lock()
	if !e.offerSent {
		e.early = append(e.early, c)
		t.mu.Unlock()
		return
	}
	id := e.id
	t.mu.Unlock()
	t.send(rtc.CandidateMessage(c, id))
}

// connection follows e's media connection: up, it moves e to live (not
// an orphan: only its resume does); failed, e is dropped as failed;
// closed, or down while orphaned, e is dropped.
func (t *Table[P]) connection(e *entry[P], s webrtc.PeerConnectionState) {
	t.log.Debug("watcher connection", "watcher", t.idOf(e), "state", s.String())
	switch s {
	case webrtc.PeerConnectionStateConnected:
		t.mu.Lock()
		_, first := t.goLiveLocked(e, false)
		t.mu.Unlock()
		if first {
			e.peer.Live()
		}
	case webrtc.PeerConnectionStateFailed:
		if t.drop(e) && t.cfg.RejectDropped {
			t.reject(t.idOf(e), protocol.RejectDropped)
		}
	case webrtc.PeerConnectionStateDisconnected:
		if t.phaseOf(e) == phaseOrphaned {
			t.drop(e)
		}
	case webrtc.PeerConnectionStateClosed:
		t.drop(e)
	}
}

// Handle takes a watcher's answer, ICE candidate, bye or stats message,
// and reports whether m came from a watcher in the Table (m.From): a
// message from any other socket is left to the caller. An answer that
// cannot be taken drops the watcher (told under Config.RejectDropped); a
// repeat of one taken is ignored. A stats report goes to Config.Report.
func (t *Table[P]) Handle(m protocol.Message) bool {
	e := t.entry(m.From)
	if e == nil {
		return false
	}
	switch m.Type {
	case protocol.TypeAnswer:
		if err := t.answer(e, m.SDP); err != nil {
			t.log.Warn("bad answer", "watcher", m.From, "err", err)
			if t.drop(e) && t.cfg.RejectDropped {
				t.reject(m.From, protocol.RejectDropped)
			}
		}
	case protocol.TypeCandidate:
		e.candidates.Add("", rtc.ICECandidate(m))
	case protocol.TypeBye:
		t.drop(e)
	case protocol.TypeStats:
		if t.cfg.Report != nil {
			t.cfg.Report(m.From, m.Report)
		}
	}
	return true
}

// answer takes the watcher's answer, moving e from offered to answered. A
// repeat of it, sent again because the watcher could not tell it was
// heard, is ignored.
func (t *Table[P]) answer(e *entry[P], sdp string) error {
	if t.phaseOf(e) != phaseOffered {
		return nil
	}
	pc := e.peer.PeerConnection()
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: sdp}); err != nil {
		return fmt.Errorf("set remote description: %w", err)
	}
	t.move(e, phaseAnswered)
	e.candidates.Ready(pc, "")
	return nil
}

// onAir returns Config.OnAir in ms, or 0 without it.
func (t *Table[P]) onAir() int64 {
	if t.cfg.OnAir == nil {
		return 0
	}
	return max(t.cfg.OnAir().Milliseconds(), 0)
}

// AnswerOffer serves a talk_request from the watcher id that makes its own
// SDP offer (protocol.TalkRequest.Offer: a WHEP player): its Peer is made
// (Config.New), the offer taken, and the answer sent once ICE gathering is
// done, every candidate in it (the watcher takes none trickled). The
// watcher is then answered: its media connection is up within
// OfferTimeout, or it is dropped. The same offer again (a repeated
// request) gets the same answer; talk_reject {reason: "full"} over
// Config.MaxWatchers. An offer that cannot be taken drops the watcher,
// told under Config.RejectDropped.
func (t *Table[P]) AnswerOffer(id, offer string) {
	t.mu.Lock()
	e := t.m[id]
	t.mu.Unlock()
	if e != nil && e.offer != "" && rtc.ICEUfrag(e.offer) == rtc.ICEUfrag(offer) {
		if t.phaseOf(e) == phaseAnswered || t.phaseOf(e) == phaseLive {
			t.send(protocol.Answer{Head: protocol.Head{Type: protocol.TypeAnswer, Sendto: id}, SDP: e.peer.PeerConnection().LocalDescription().SDP})
		}
		return // else its answer is on its way
	}
	if e != nil {
		t.drop(e)
	}
	if t.Direct() >= t.cfg.MaxWatchers {
		t.log.Info("watcher refused: full", "watcher", id, "max", t.cfg.MaxWatchers)
		t.send(protocol.TalkReject{Head: protocol.Head{Type: protocol.TypeTalkReject, Sendto: id}, Reason: protocol.RejectFull})
		return
	}
	e, err := t.takeOffer(id, offer)
	if err != nil {
		t.log.Warn("offer not taken", "watcher", id, "err", err)
		t.fail(id)
		return
	}
	answer := func() {
		pc := e.peer.PeerConnection()
		sdp, err := rtc.Answer(pc, true, nil)
		if err == nil && !t.move(e, phaseAnswered) {
			err = fmt.Errorf("answer %s: %w", id, ErrDropped)
		}
		if err != nil {
			t.log.Warn("offer not answered", "watcher", id, "err", err)
			t.fail(id)
			return
		}
		t.send(protocol.Answer{Head: protocol.Head{Type: protocol.TypeAnswer, Sendto: t.idOf(e)}, SDP: sdp})
		e.candidates.Ready(pc, "")
		t.log.Info("watcher joined", "watcher", t.idOf(e), "offered", true)
	}
	if t.cfg.Go == nil {
		go answer()
	} else if !t.cfg.Go(answer) {
		t.drop(e)
	}
}

// takeOffer makes the Peer of the watcher id that offered, puts it in the
// Table as offered (its answer to come) and sets its offer.
func (t *Table[P]) takeOffer(id, offer string) (*entry[P], error) {
	p, err := t.cfg.New(id, false)
	if err != nil {
		return nil, err
	}
	e := &entry[P]{id: id, peer: p, offer: offer, offerSent: true}
	pc := p.PeerConnection()
	pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) { t.connection(e, s) })
	t.mu.Lock()
	t.m[id] = e
	offered := t.moveLocked(e, phaseOffered)
	t.mu.Unlock()
	if !offered {
		return nil, fmt.Errorf("offer of %s: %w", id, ErrDropped)
	}
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: offer}); err != nil {
		return nil, fmt.Errorf("set remote description: %w", err)
	}
	return e, nil
}
