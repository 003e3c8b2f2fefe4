package broadcaster

import (
	"fmt"

	"github.com/pion/interceptor"
	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v4"

	"github.com/broadcast-service/broadcast/internal/rtc"
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
func (b *Broadcaster) newPeer(_ string, relay bool) (*peer, error) {
	pc, err := b.api.NewPeerConnection(webrtc.Configuration{ICEServers: b.iceServers})
	if err != nil {
		return nil, fmt.Errorf("peer connection: %w", err)
	}
	p := &peer{pc: pc}
	if err := b.addMedia(p, relay); err != nil {
		_ = pc.Close()
		return nil, err
	}
	return p, nil
}

// addMedia adds the shared tracks, each with a reader of the watcher's
// RTCP, and a data channel to p's PeerConnection. The room's relay gets
// the video's simulcast layers, if it has some, as one track's encodings.
func (b *Broadcaster) addMedia(p *peer, relay bool) error {
	for _, t := range b.tracks {
		if t.local == nil || (relay && t == b.video && len(b.layers) > 0) {
			continue
		}
		sender, err := p.pc.AddTrack(t.local)
		if err != nil {
			return fmt.Errorf("add %s track: %w", t.kind, err)
		}
		go t.readRTCP(sender.ReadRTCP)
	}
	if relay && len(b.layers) > 0 {
		if err := addLayers(p.pc, b.layers); err != nil {
			return err
		}
	}
	dc, err := p.pc.CreateDataChannel("data", nil)
	if err != nil {
		return fmt.Errorf("data channel: %w", err)
	}
	p.dc = dc
	return nil
}

// addLayers adds the simulcast layers (lowest first) to pc as one video
// track's encodings, each with a reader of the watcher's RTCP for it.
func addLayers(pc *webrtc.PeerConnection, layers []*track) error {
	locals := make([]webrtc.TrackLocal, len(layers))
	for i, t := range layers {
		locals[i] = t.layer
	}
	sender, err := rtc.AddSimulcast(pc, locals)
	if err != nil {
		return fmt.Errorf("add video layers: %w", err)
	}
	for _, t := range layers {
		rid := t.layer.RID()
		go t.readRTCP(func() ([]rtcp.Packet, interceptor.Attributes, error) { return sender.ReadSimulcastRTCP(rid) })
	}
	return nil
}
