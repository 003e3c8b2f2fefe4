package broadcaster

import (
	"fmt"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/broadcast-service/broadcast/internal/rtc"
	"github.com/broadcast-service/broadcast/protocol"
)

// peer is one watcher's PeerConnection.
type peer struct {
	id    string      // guarded by Broadcaster.mu: a watcher resumes under a new id
	phase phase       // guarded by Broadcaster.mu; changed by move only
	epoch uint64      // guarded by Broadcaster.mu: moves so far, to tell a stale deadline
	timer *time.Timer // guarded by Broadcaster.mu: the phase's deadline, if it has one
	relay bool        // the room's relay, served beyond Options.MaxWatchers; set once

	pc         *webrtc.PeerConnection
	dc         *webrtc.DataChannel
	candidates rtc.EarlyCandidates // the watcher's, held until its answer
}

func (p *peer) close() { _ = p.pc.Close() }

// offer creates a PeerConnection for a watcher (the room's relay if relay)
// and sends it an offer.
func (b *Broadcaster) offer(id string, relay bool) error {
	pc, err := b.api.NewPeerConnection(webrtc.Configuration{ICEServers: b.iceServers})
	if err != nil {
		return fmt.Errorf("peer connection: %w", err)
	}
	p := &peer{id: id, pc: pc, relay: relay}
	if err := b.addMedia(p); err != nil {
		_ = pc.Close()
		return err
	}
	pc.OnICECandidate(func(c *webrtc.ICECandidate) {
		if c != nil {
			_ = b.send(rtc.CandidateMessage(c, b.peerID(p)))
		}
	})
	pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		b.log.Debug("watcher connection", "watcher", b.peerID(p), "state", s.String())
		if s == webrtc.PeerConnectionStateFailed || (s == webrtc.PeerConnectionStateDisconnected && b.phaseOf(p) == phaseOrphaned) {
			b.drop(p)
		}
	})
	b.mu.Lock()
	b.moveLocked(p, phaseOffered)
	b.peers[id] = p
	n := len(b.peers)
	b.mu.Unlock()

	offer, err := pc.CreateOffer(nil)
	if err != nil {
		return fmt.Errorf("create offer: %w", err)
	}
	if err := pc.SetLocalDescription(offer); err != nil {
		return fmt.Errorf("set local description: %w", err)
	}
	if relay {
		b.log.Info("relay joined", "relay", id, "watchers", n)
	} else {
		b.log.Info("watcher joined", "watcher", id, "watchers", n)
	}
	return b.send(protocol.Offer{Head: protocol.Head{Type: protocol.TypeOffer, Sendto: id}, SDP: offer.SDP})
}

// addMedia adds the shared tracks, each with a reader of the watcher's
// RTCP, and a data channel to p's PeerConnection.
func (b *Broadcaster) addMedia(p *peer) error {
	for _, t := range b.tracks {
		sender, err := p.pc.AddTrack(t.local)
		if err != nil {
			return fmt.Errorf("add %s track: %w", t.local.Kind(), err)
		}
		go t.readRTCP(sender)
	}
	dc, err := p.pc.CreateDataChannel("data", nil)
	if err != nil {
		return fmt.Errorf("data channel: %w", err)
	}
	p.dc = dc
	return nil
}

// answer takes the watcher's answer, moving p from offered to answered. A
// repeat of it, sent again because the watcher could not tell it was heard,
// is ignored.
func (b *Broadcaster) answer(p *peer, sdp string) error {
	if b.phaseOf(p) != phaseOffered {
		return nil
	}
	if err := p.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: sdp}); err != nil {
		return fmt.Errorf("set remote description: %w", err)
	}
	b.move(p, phaseAnswered)
	p.candidates.Ready(p.pc, "")
	return nil
}

func (b *Broadcaster) peerID(p *peer) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return p.id
}

func (b *Broadcaster) phaseOf(p *peer) phase {
	b.mu.Lock()
	defer b.mu.Unlock()
	return p.phase
}
