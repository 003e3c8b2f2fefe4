package rtc

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/broadcast-service/broadcast/signaling"
	"github.com/broadcast-service/broadcast/signaling/sioclient"
)

// Message is what the Go peers read of a `message` event (type, from, sdp,
// reason, trickled candidate, resume) or of a `user disconnected` notice
// (id).
type Message struct {
	Type          string  `json:"type"`
	From          string  `json:"from"`
	SDP           string  `json:"sdp"`
	Reason        string  `json:"reason"`
	Candidate     string  `json:"candidate"`
	SDPMid        *string `json:"sdpMid"`
	SDPMLineIndex *uint16 `json:"sdpMLineIndex"`
	ID            string  `json:"id"`
	// Resume, on a talk_request, is the ice-ufrag of the offer of a media
	// session the watcher still has, after either end's socket came back
	// under a new id; Resumed, on a talk_ready to one watcher, says the
	// talker took that session back.
	Resume  string `json:"resume"`
	Resumed bool   `json:"resumed"`
}

// ResumeGrace is how long a media connection that is still up waits for
// the other end's socket to come back and resume it (its signaling node
// restarting) before it is closed; the pages wait as long.
const ResumeGrace = 10 * time.Second

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

// ICECandidate is the message's trickled candidate, for AddICECandidate.
func (m Message) ICECandidate() webrtc.ICECandidateInit {
	return webrtc.ICECandidateInit{Candidate: m.Candidate, SDPMid: m.SDPMid, SDPMLineIndex: m.SDPMLineIndex}
}

// Decode reads an event's first argument into v. It reports false when the
// event has none or it does not decode.
func Decode(ev sioclient.Event, v any) bool {
	return len(ev.Args) > 0 && json.Unmarshal(ev.Args[0], v) == nil
}

// Refusal is a `signaling_error` event as "code: message".
func Refusal(ev sioclient.Event) string {
	var e struct{ Code, Message string }
	Decode(ev, &e)
	return e.Code + ": " + e.Message
}

// EnteredICEServers returns the ICE servers an `entered` reply hands out,
// TURN credentials included, for pion.
func EnteredICEServers(ev sioclient.Event) []webrtc.ICEServer {
	var entered struct {
		ICEServers []signaling.ICEServer `json:"iceServers"`
	}
	Decode(ev, &entered)
	out := make([]webrtc.ICEServer, 0, len(entered.ICEServers))
	for _, s := range entered.ICEServers {
		out = append(out, webrtc.ICEServer{URLs: s.URLs, Username: s.Username, Credential: s.Credential})
	}
	return out
}
