package broadcaster

import (
	"fmt"
	"sync"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/broadcast-service/broadcast/internal/rtc"
	"github.com/broadcast-service/broadcast/protocol"
)

// peer is one watcher's PeerConnection.
type peer struct {
	id      string      // guarded by Broadcaster.mu: a watcher resumes under a new id
	orphan  *time.Timer // guarded by Broadcaster.mu: set while the watcher's socket is gone
	orphans uint64      // guarded by Broadcaster.mu: times orphaned, to tell a stale timer
	pc      *webrtc.PeerConnection
	dc      *webrtc.DataChannel
	// unanswered drops the watcher if its answer has not come within
	// Options.OfferTimeout; stopped when the peer is dropped.
	unanswered *time.Timer

	mu      sync.Mutex // guards pending and remote
	pending []webrtc.ICECandidateInit
	remote  bool
}

// offer creates a PeerConnection for a watcher and sends it an offer.
func (b *Broadcaster) offer(id string) error {
	pc, err := b.api.NewPeerConnection(webrtc.Configuration{ICEServers: b.iceServers})
	if err != nil {
		return fmt.Errorf("peer connection: %w", err)
	}
	p := &peer{id: id, pc: pc}
	for _, t := range b.tracks {
		sender, err := pc.AddTrack(t.local)
		if err != nil {
			_ = pc.Close()
			return fmt.Errorf("add %s track: %w", t.local.Kind(), err)
		}
		go t.readRTCP(sender)
	}
	if p.dc, err = pc.CreateDataChannel("data", nil); err != nil {
		_ = pc.Close()
		return fmt.Errorf("data channel: %w", err)
	}
	pc.OnICECandidate(func(c *webrtc.ICECandidate) {
		if c != nil {
			_ = b.send(rtc.CandidateMessage(c, b.peerID(p)))
		}
	})
	pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		b.log.Debug("watcher connection", "watcher", b.peerID(p), "state", s.String())
		if s == webrtc.PeerConnectionStateFailed || (s == webrtc.PeerConnectionStateDisconnected && b.orphaned(p)) {
			b.dropPeer(p, 0)
		}
	})
	b.mu.Lock()
	p.unanswered = time.AfterFunc(b.opts.OfferTimeout, func() { b.expire(p) })
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
	b.log.Info("watcher joined", "watcher", id, "watchers", n)
	return b.send(protocol.Offer{Head: protocol.Head{Type: protocol.TypeOffer, Sendto: id}, SDP: offer.SDP})
}

// expire drops p if its watcher has not answered the offer, and tells the
// watcher with talk_reject {reason: "timeout"}: a watcher that asks and
// never answers would otherwise hold a place for good.
func (b *Broadcaster) expire(p *peer) {
	p.mu.Lock()
	answered := p.remote
	p.mu.Unlock()
	if answered || b.peer(b.peerID(p)) != p {
		return
	}
	id := b.peerID(p)
	b.log.Info("watcher dropped: no answer", "watcher", id, "timeout", b.opts.OfferTimeout)
	b.dropPeer(p, 0)
	_ = b.send(protocol.TalkReject{Head: protocol.Head{Type: protocol.TypeTalkReject, Sendto: id}, Reason: protocol.RejectTimeout})
}

// answer takes the watcher's answer. A repeat of it, sent again because
// the watcher could not tell it was heard, is ignored.
func (p *peer) answer(sdp string) error {
	p.mu.Lock()
	taken := p.remote
	p.mu.Unlock()
	if taken {
		return nil
	}
	if err := p.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: sdp}); err != nil {
		return fmt.Errorf("set remote description: %w", err)
	}
	p.mu.Lock()
	p.remote = true
	pending := p.pending
	p.pending = nil
	p.mu.Unlock()
	for _, c := range pending {
		_ = p.pc.AddICECandidate(c)
	}
	return nil
}

// candidate adds a trickled candidate, or keeps it until the answer: up
// to protocol.MaxPendingCandidates, dropping any more.
func (p *peer) candidate(c webrtc.ICECandidateInit) {
	p.mu.Lock()
	if !p.remote {
		if len(p.pending) < protocol.MaxPendingCandidates {
			p.pending = append(p.pending, c)
		}
		p.mu.Unlock()
		return
	}
	p.mu.Unlock()
	_ = p.pc.AddICECandidate(c)
}

func (p *peer) close() { _ = p.pc.Close() }

// clearOrphanLocked stops p's orphan timer, if any. Broadcaster.mu must be
// held.
func (p *peer) clearOrphanLocked() {
	if p.orphan != nil {
		p.orphan.Stop()
		p.orphan = nil
	}
}
