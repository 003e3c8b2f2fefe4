package broadcaster

import (
	"fmt"

	"github.com/pion/webrtc/v4"
)

// peer is one watcher's PeerConnection, carrying the shared tracks and a
// data channel; its phase is kept by Broadcaster.watchers.
type peer struct {
	pc *webrtc.PeerConnection
	dc *webrtc.DataChannel
}

// PeerConnection returns the watcher's PeerConnection.
func (p *peer) PeerConnection() *webrtc.PeerConnection { return p.pc }

// Live does nothing: the shared tracks go to the watcher from the start.
func (p *peer) Live() {}

// Close does nothing: the PeerConnection is all a peer holds.
func (p *peer) Close() {}

// newPeer makes a watcher's PeerConnection (the room's relay's alike),
// with the ICE servers of the last `entered`, the shared tracks and a
// data channel: the watchers.Config.New of Broadcaster.watchers.
func (b *Broadcaster) newPeer(string, bool) (*peer, error) {
	pc, err := b.api.NewPeerConnection(webrtc.Configuration{ICEServers: b.iceServers})
	if err != nil {
		return nil, fmt.Errorf("peer connection: %w", err)
	}
	p := &peer{pc: pc}
	if err := b.addMedia(p); err != nil {
		_ = pc.Close()
		return nil, err
	}
	return p, nil
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
