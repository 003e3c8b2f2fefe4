// Package rtc holds what the Go talker and watcher share on pion: the API
// they build PeerConnections with, and ICE candidates in the signaling
// protocol's form.
package rtc

import (
	"fmt"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"

	"github.com/broadcast-service/broadcast/protocol"
)

// NewAPI returns a pion API with the default codecs and interceptors (NACK,
// RTCP reports, TWCC) plus any extra interceptors. The extra ones come
// first in each PeerConnection's chain: the RTCP writer a default one is
// given, and writes its NACKs and reports with, is theirs, so a counter
// among them sees those too.
func NewAPI(extra ...interceptor.Factory) (*webrtc.API, error) {
	return NewAPIWith(webrtc.SettingEngine{}, extra...)
}

// NewAPIWith is NewAPI on the settings se (an ICE UDP mux, say).
func NewAPIWith(se webrtc.SettingEngine, extra ...interceptor.Factory) (*webrtc.API, error) {
	m := &webrtc.MediaEngine{}
	if err := m.RegisterDefaultCodecs(); err != nil {
		return nil, fmt.Errorf("codecs: %w", err)
	}
	ir := &interceptor.Registry{}
	for _, f := range extra {
		ir.Add(f)
	}
	if err := webrtc.RegisterDefaultInterceptors(m, ir); err != nil {
		return nil, fmt.Errorf("interceptors: %w", err)
	}
	return webrtc.NewAPI(webrtc.WithSettingEngine(se), webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(ir)), nil
}

// CandidateMessage is a trickled ICE candidate as a `message` to sendto.
func CandidateMessage(c *webrtc.ICECandidate, sendto string) protocol.Candidate {
	init := c.ToJSON()
	return protocol.Candidate{
		Head:      protocol.Head{Type: protocol.TypeCandidate, Sendto: sendto},
		Candidate: init.Candidate, SDPMid: init.SDPMid, SDPMLineIndex: init.SDPMLineIndex,
	}
}

// ICEUfrag returns an SDP's ICE username fragment (RFC 8839 §5.4), from its
// session level or else its first media section that has one, or "" if the
// SDP does not parse or has none. Offers from one PeerConnection share it,
// until an ICE restart: it tells a repeated offer from a new one.
func ICEUfrag(raw string) string {
	var s sdp.SessionDescription
	if err := s.UnmarshalString(raw); err != nil {
		return ""
	}
	if u, ok := s.Attribute("ice-ufrag"); ok {
		return u
	}
	for _, m := range s.MediaDescriptions {
		if u, ok := m.Attribute("ice-ufrag"); ok {
			return u
		}
	}
	return ""
}

// GatherTimeout bounds how long an answer with its candidates in waits for
// ICE gathering (a STUN or TURN server that does not answer): the answer
// then carries those gathered.
const GatherTimeout = 5 * time.Second

// Answer creates pc's answer to the offer it was given, sets it as pc's
// local description and returns its SDP. With gathered, it first waits
// for ICE gathering to complete (within GatherTimeout, or until stop is
// closed) and returns the local description with every candidate
// gathered in it: an answer for an offerer that takes no trickled
// candidate. It returns pion's error if the answer cannot be made or set.
func Answer(pc *webrtc.PeerConnection, gathered bool, stop <-chan struct{}) (string, error) {
	ans, err := pc.CreateAnswer(nil)
	if err != nil {
		return "", err
	}
	done := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(ans); err != nil {
		return "", err
	}
	if !gathered {
		return ans.SDP, nil
	}
	t := time.NewTimer(GatherTimeout)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
	case <-stop:
	}
	return pc.LocalDescription().SDP, nil
}
