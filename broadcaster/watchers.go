package broadcaster

import (
	"github.com/pion/webrtc/v4"

	"github.com/broadcast-service/broadcast/internal/rtc"
	"github.com/broadcast-service/broadcast/protocol"
)

// Watchers returns how many watchers are being served, the room's relay
// among them if it is one.
func (b *Broadcaster) Watchers() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.peers)
}

// directWatchers returns how many watchers are served other than the
// room's relay: those Options.MaxWatchers bounds.
func (b *Broadcaster) directWatchers() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := 0
	for _, p := range b.peers {
		if !p.relay {
			n++
		}
	}
	return n
}

func (b *Broadcaster) peer(id string) *peer {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.peers[id]
}

func (b *Broadcaster) allPeers() []*peer {
	b.mu.Lock()
	defer b.mu.Unlock()
	all := make([]*peer, 0, len(b.peers))
	for _, p := range b.peers {
		all = append(all, p)
	}
	return all
}

// drop moves p to gone and closes its connection; it reports false if p
// was gone already.
func (b *Broadcaster) drop(p *peer) bool {
	b.mu.Lock()
	if !b.moveLocked(p, phaseGone) {
		b.mu.Unlock()
		return false
	}
	if b.peers[p.id] == p {
		delete(b.peers, p.id)
	}
	id, n := p.id, len(b.peers)
	b.mu.Unlock()
	p.close()
	b.log.Info("watcher left", "watcher", id, "watchers", n)
	return true
}

// left: the server says a watcher's socket is gone.
func (b *Broadcaster) left(id string) {
	if p := b.peer(id); p != nil {
		b.orphan(p)
	}
}

// orphan keeps p, whose watcher's socket is gone, for protocol.ResumeGrace
// if its media connection is up (the watcher's signaling node may be
// restarting, and the watcher resume it), and drops it at once otherwise.
func (b *Broadcaster) orphan(p *peer) {
	if p.pc.ConnectionState() != webrtc.PeerConnectionStateConnected {
		b.drop(p)
		return
	}
	b.move(p, phaseOrphaned)
}

// orphanAll orphans every watcher: this talker's own socket was lost.
func (b *Broadcaster) orphanAll() {
	for _, p := range b.allPeers() {
		b.orphan(p)
	}
}

// resume takes a watcher back under the socket id it asks from, on the
// media connection it still has: the one whose offer had ufrag. It reports
// false when there is none, and the request is served anew.
func (b *Broadcaster) resume(id, ufrag string) bool {
	found := b.findSession(ufrag)
	if found == nil {
		return false
	}
	b.mu.Lock()
	old := found.id
	if !b.moveLocked(found, phaseAnswered) {
		b.mu.Unlock()
		return false // dropped meanwhile
	}
	displaced := b.peers[id]
	delete(b.peers, old)
	found.id = id
	b.peers[id] = found
	if displaced == found {
		displaced = nil
	}
	b.mu.Unlock()
	if displaced != nil {
		b.drop(displaced)
	}
	b.log.Info("watcher resumed", "watcher", id, "was", old)
	_ = b.send(protocol.TalkReady{Head: protocol.Head{Type: protocol.TypeTalkReady, Sendto: id}, Resumed: true})
	return true
}

// findSession returns the watcher whose media connection is up on the
// offer with ICE username fragment ufrag, or nil.
func (b *Broadcaster) findSession(ufrag string) *peer {
	for _, p := range b.allPeers() {
		if p.pc.ConnectionState() != webrtc.PeerConnectionStateConnected {
			continue
		}
		if d := p.pc.LocalDescription(); d != nil && rtc.ICEUfrag(d.SDP) == ufrag {
			return p
		}
	}
	return nil
}

// closePeers closes every watcher's connection.
func (b *Broadcaster) closePeers() {
	for _, p := range b.allPeers() {
		b.drop(p)
	}
}
