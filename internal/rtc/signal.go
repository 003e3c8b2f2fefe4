package rtc

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/broadcast-service/broadcast/protocol"
	"github.com/broadcast-service/broadcast/signaling/sioclient"
)

// Dial connects to the signaling server at server within timeout. Its
// error says the server is unreachable, and wraps sioclient's.
func Dial(ctx context.Context, server string, timeout time.Duration, opts *sioclient.Options) (*sioclient.Client, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	sio, err := sioclient.Dial(ctx, server, opts)
	if err != nil {
		return nil, fmt.Errorf("signaling server %s unreachable: %w", server, err)
	}
	return sio, nil
}

// ICECandidate is a message's trickled candidate, for AddICECandidate.
func ICECandidate(m protocol.Message) webrtc.ICECandidateInit {
	return webrtc.ICECandidateInit{Candidate: m.Candidate, SDPMid: m.SDPMid, SDPMLineIndex: m.SDPMLineIndex}
}

// Decode reads an event's first argument into v. It reports false when the
// event has none or it does not decode.
func Decode(ev sioclient.Event, v any) bool {
	return len(ev.Args) > 0 && json.Unmarshal(ev.Args[0], v) == nil
}

// Refusal is a `signaling_error` event as "code: message".
func Refusal(ev sioclient.Event) string {
	var e protocol.SignalingError
	Decode(ev, &e)
	return e.Code + ": " + e.Message
}

// Entered decodes an `entered` reply, and returns it with its ICE servers,
// TURN credentials included, for pion.
func Entered(ev sioclient.Event) (protocol.Entered, []webrtc.ICEServer) {
	var entered protocol.Entered
	Decode(ev, &entered)
	out := make([]webrtc.ICEServer, 0, len(entered.ICEServers))
	for _, s := range entered.ICEServers {
		out = append(out, webrtc.ICEServer{URLs: s.URLs, Username: s.Username, Credential: s.Credential})
	}
	return entered, out
}
