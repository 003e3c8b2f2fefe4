package viewer

import (
	"time"

	"github.com/broadcast-service/broadcast/internal/rtc"
	"github.com/broadcast-service/broadcast/protocol"
)

// sameSession reports whether an offer is for the current media session:
// the same ice-ufrag as the offer it answered.
func (v *Viewer) sameSession(sdp string) bool {
	pc := v.peerConnection()
	if pc == nil {
		return false
	}
	d := pc.RemoteDescription()
	u := rtc.ICEUfrag(sdp)
	return d != nil && u != "" && rtc.ICEUfrag(d.SDP) == u
}

// askResume asks the room's talker (the relay, for a session with the
// relay) to take back the media session, by the ice-ufrag of its offer,
// and moves to resuming. Signaling loop only.
func (v *Viewer) askResume() {
	pc := v.peerConnection()
	if pc == nil {
		return
	}
	d := pc.RemoteDescription()
	if d == nil {
		return
	}
	v.moveTo(phaseResuming)
	v.askedAt = time.Now()
	to := ""
	if v.relayed() {
		to = v.currentTalker()
	}
	v.send(protocol.TalkRequest{Head: protocol.Head{Type: protocol.TypeTalkRequest, Sendto: to}, Resume: rtc.ICEUfrag(d.SDP)})
}

// resumed: the talker, under socket id from, took the session back.
func (v *Viewer) resumed(from string) {
	v.mu.Lock()
	v.talker = from
	v.mu.Unlock()
	v.moveTo(phaseLive)
	v.log.Info("session resumed", "talker", from)
}
