// Package rtc holds what the Go talker and watcher share on pion: the API
// they build PeerConnections with, and ICE candidates in the signaling
// protocol's form.
package rtc

import (
	"fmt"

	"github.com/pion/interceptor"
	"github.com/pion/webrtc/v4"

	"github.com/broadcast-service/broadcast/signaling"
)

// NewAPI returns a pion API with the default codecs and interceptors (NACK,
// RTCP reports, TWCC) plus any extra interceptors.
func NewAPI(extra ...interceptor.Factory) (*webrtc.API, error) {
	m := &webrtc.MediaEngine{}
	if err := m.RegisterDefaultCodecs(); err != nil {
		return nil, fmt.Errorf("codecs: %w", err)
	}
	ir := &interceptor.Registry{}
	if err := webrtc.RegisterDefaultInterceptors(m, ir); err != nil {
		return nil, fmt.Errorf("interceptors: %w", err)
	}
	for _, f := range extra {
		ir.Add(f)
	}
	return webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(ir)), nil
}

// CandidateMessage is a trickled ICE candidate as a `message` to sendto:
// {type: "candidate", candidate, sdpMid, sdpMLineIndex}.
func CandidateMessage(c *webrtc.ICECandidate, sendto string) map[string]any {
	init := c.ToJSON()
	msg := map[string]any{"type": signaling.TypeCandidate, "sendto": sendto, "candidate": init.Candidate}
	if init.SDPMid != nil {
		msg["sdpMid"] = *init.SDPMid
	}
	if init.SDPMLineIndex != nil {
		msg["sdpMLineIndex"] = *init.SDPMLineIndex
	}
	return msg
}
