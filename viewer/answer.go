package viewer

import (
	"errors"
	"fmt"
	"strings"

	"github.com/pion/webrtc/v4"

	"github.com/broadcast-service/broadcast/internal/record"
	"github.com/broadcast-service/broadcast/internal/rtc"
	"github.com/broadcast-service/broadcast/protocol"
)

// answer takes the talker's offer, or the room's relay's (stamped relay:
// true): a new PeerConnection, recording what it brings, and an answer
// back; the offer's sender is the session's peer from then on. The same
// offer again (the talker did not hear the answer) gets the same answer
// again.
func (v *Viewer) answer(m protocol.Message) error {
	if v.repeatAnswer(m) {
		return nil
	}
	if err := v.startRecording(m.SDP); err != nil {
		return err
	}
	pc, err := v.api.NewPeerConnection(webrtc.Configuration{ICEServers: v.iceServers})
	if err != nil {
		return fmt.Errorf("peer connection: %w", err)
	}
	v.candidates.Hold() // until this offer is the remote description
	v.mu.Lock()
	old := v.pc
	v.pc, v.talker, v.viaRelay = pc, m.From, m.Relay
	v.mu.Unlock()
	if m.Relay {
		v.log.Info("offer from the relay", "relay", m.From)
	}
	if old != nil {
		_ = old.Close() // its track readers end, and finish waits for them
	}
	v.wire(pc, m.From)
	answer, err := negotiate(pc, m.SDP)
	if err != nil {
		return err
	}
	v.moveTo(phaseConnecting)
	v.sendAnswer(answer, m.From)
	v.candidates.Ready(pc, m.From)
	if m.Relay && v.opts.Layer != "" {
		v.send(protocol.Layer{Head: protocol.Head{Type: protocol.TypeLayer, Sendto: m.From}, Pin: v.opts.Layer})
	}
	return nil
}

// noteLayer takes the relay's layer message m, for Stats.Layer.
func (v *Viewer) noteLayer(m protocol.Message) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if !v.viaRelay || m.From != v.talker {
		return
	}
	v.layer = m.Current
	if m.Paused {
		v.layer = "paused"
	}
}

// repeatAnswer sends the answer again if m repeats the offer it answered,
// and reports whether it did.
func (v *Viewer) repeatAnswer(m protocol.Message) bool {
	v.mu.Lock()
	cur, talker := v.pc, v.talker
	v.mu.Unlock()
	if talker != m.From || !v.sameSession(m.SDP) {
		return false
	}
	local := cur.LocalDescription()
	if local == nil {
		return false
	}
	v.log.Debug("offer repeated: answer repeated", "talker", talker)
	v.sendAnswer(local.SDP, talker)
	return true
}

// startRecording opens Options.Record, if set, for the stream an offer
// describes. The recording of a session before it (the talker's, then its
// relay's, say) is finalised: the new one starts the file again at its
// first keyframe, and the old one's track readers write nothing more.
func (v *Viewer) startRecording(offer string) error {
	if v.opts.Record == "" {
		return nil
	}
	rec, err := record.New(v.opts.Record, strings.Contains(offer, "m=audio"))
	if err != nil {
		return err
	}
	v.mu.Lock()
	old := v.rec
	v.rec = rec
	v.mu.Unlock()
	if old != nil {
		if err := old.Close(); err != nil {
			v.log.Warn("finalise recording", "err", err)
		}
	}
	return nil
}

// negotiate sets the offer as pc's remote description and returns the
// answer, set as its local description.
func negotiate(pc *webrtc.PeerConnection, offer string) (string, error) {
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: offer}); err != nil {
		return "", fmt.Errorf("set remote description: %w", err)
	}
	answer, err := pc.CreateAnswer(nil)
	if err != nil {
		return "", fmt.Errorf("create answer: %w", err)
	}
	if err := pc.SetLocalDescription(answer); err != nil {
		return "", fmt.Errorf("set local description: %w", err)
	}
	return answer.SDP, nil
}

// wire sets pc's callbacks: trickled candidates to the talker, a reader per
// track, the data channel to Options.Data, and its state to the signaling
// loop.
func (v *Viewer) wire(pc *webrtc.PeerConnection, talker string) {
	pc.OnICECandidate(func(c *webrtc.ICECandidate) {
		if c != nil {
			v.send(rtc.CandidateMessage(c, talker))
		}
	})
	pc.OnTrack(func(t *webrtc.TrackRemote, receiver *webrtc.RTPReceiver) {
		// pion calls this on a goroutine of its own, which may start as
		// finish waits: under mu, a reader either counts before the wait
		// or does not start.
		v.mu.Lock()
		if v.finishing {
			v.mu.Unlock()
			return
		}
		v.receiving.Add(1)
		v.mu.Unlock()
		defer v.receiving.Done()
		if t.Kind() == webrtc.RTPCodecTypeVideo && receiver != firstVideo(pc) {
			// A second video: the slides of a talker in lecture mode.
			// The camera alone is watched and recorded.
			v.log.Info("second video not recorded", "track", t.ID())
			drain(t)
			return
		}
		v.receive(pc, t)
	})
	pc.OnDataChannel(func(dc *webrtc.DataChannel) { dc.OnMessage(v.data) })
	pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		v.log.Debug("connection", "state", s.String())
		if s == webrtc.PeerConnectionStateFailed {
			v.fail(errors.New("the media connection failed"))
		}
		select {
		case v.mediaChanged <- struct{}{}:
		default: // the loop has yet to look at the last change
		}
	})
}

// data writes a data channel message to Options.Data: text as a line,
// binary as it is.
func (v *Viewer) data(msg webrtc.DataChannelMessage) {
	if v.opts.Data == nil {
		return
	}
	if msg.IsString {
		_, _ = fmt.Fprintln(v.opts.Data, string(msg.Data))
	} else {
		_, _ = v.opts.Data.Write(msg.Data)
	}
}

// fail ends watching with err, unless an error is already waiting.
func (v *Viewer) fail(err error) {
	select {
	case v.failed <- err:
	default:
	}
}

// firstVideo returns the receiver of pc's first video media section: the
// talker's camera.
func firstVideo(pc *webrtc.PeerConnection) *webrtc.RTPReceiver {
	for _, tr := range pc.GetTransceivers() {
		if tr.Kind() == webrtc.RTPCodecTypeVideo {
			return tr.Receiver()
		}
	}
	return nil
}

// drain reads t until it ends.
func drain(t *webrtc.TrackRemote) {
	for {
		if _, _, err := t.ReadRTP(); err != nil {
			return
		}
	}
}
