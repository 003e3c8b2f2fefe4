package protocol

import (
	"encoding/json"
	"reflect"
	"testing"
)

// TestMessagesOnTheWire: each message struct encodes to the object the
// pages and the server have always exchanged (given here as a map), with
// absent fields left out.
func TestMessagesOnTheWire(t *testing.T) {
	mid, index, zero, watchers := "0", uint16(1), 0.0, 3
	tests := []struct {
		name string
		msg  any
		want map[string]any
	}{
		{"talk_request to the room", TalkRequest{Head: Head{Type: TypeTalkRequest}}, map[string]any{"type": "talk_request"}},
		{"talk_request to resume", TalkRequest{Head: Head{Type: TypeTalkRequest}, Resume: "u"}, map[string]any{"type": "talk_request", "resume": "u"}},
		{"talk_ready", TalkReady{Head: Head{Type: TypeTalkReady}}, map[string]any{"type": "talk_ready"}},
		{"talk_ready resumed", TalkReady{Head: Head{Type: TypeTalkReady, Sendto: "w"}, Resumed: true}, map[string]any{"type": "talk_ready", "sendto": "w", "resumed": true}},
		{"talk_reject", TalkReject{Head: Head{Type: TypeTalkReject, Sendto: "w"}, Reason: RejectFull}, map[string]any{"type": "talk_reject", "sendto": "w", "reason": "full"}},
		{"offer", Offer{Head: Head{Type: TypeOffer, Sendto: "w"}, SDP: "v=0"}, map[string]any{"type": "offer", "sendto": "w", "sdp": "v=0"}},
		{"talk_reject in line", TalkReject{Head: Head{Type: TypeTalkReject, Sendto: "w"}, Reason: RejectFull, Position: 3}, map[string]any{"type": "talk_reject", "sendto": "w", "reason": "full", "position": 3.0}},
		{"offer on air an hour", Offer{Head: Head{Type: TypeOffer, Sendto: "w"}, SDP: "v=0", OnAirMs: 3_600_000}, map[string]any{"type": "offer", "sendto": "w", "sdp": "v=0", "onAirMs": 3_600_000.0}},
		{"layer pin", Layer{Head: Head{Type: TypeLayer, Sendto: "r"}, Pin: LayerLow}, map[string]any{"type": "layer", "sendto": "r", "pin": "low"}},
		{"layer from the relay", Layer{Head: Head{Type: TypeLayer, Sendto: "w"}, Layers: LayerNames(3), Current: LayerMedium, Pin: LayerAuto},
			map[string]any{"type": "layer", "sendto": "w", "layers": []any{"low", "medium", "high"}, "current": "medium", "pin": "auto"}},
		{"layer paused", Layer{Head: Head{Type: TypeLayer, Sendto: "w"}, Layers: LayerNames(2), Pin: LayerAuto, Paused: true},
			map[string]any{"type": "layer", "sendto": "w", "layers": []any{"low", "high"}, "pin": "auto", "paused": true}},
		{"answer", Answer{Head: Head{Type: TypeAnswer, Sendto: "t"}, SDP: "v=0"}, map[string]any{"type": "answer", "sendto": "t", "sdp": "v=0"}},
		{"candidate", Candidate{Head: Head{Type: TypeCandidate, Sendto: "t"}, Candidate: "c", SDPMid: &mid, SDPMLineIndex: &index},
			map[string]any{"type": "candidate", "sendto": "t", "candidate": "c", "sdpMid": "0", "sdpMLineIndex": 1.0}},
		{"candidate without its section", Candidate{Head: Head{Type: TypeCandidate, Sendto: "t"}, Candidate: "c"},
			map[string]any{"type": "candidate", "sendto": "t", "candidate": "c"}},
		{"bye", Bye{Head: Head{Type: TypeBye, Sendto: "t"}}, map[string]any{"type": "bye", "sendto": "t"}},
		{"end_talk", EndTalk{Head: Head{Type: TypeEndTalk}}, map[string]any{"type": "end_talk"}},
		{"stats", Stats{Head: Head{Type: TypeStats, Sendto: "t"}, Report: Report{FPS: &zero}}, map[string]any{"type": "stats", "sendto": "t", "fps": 0.0}},
		{"offer from the relay", Offer{Head: Head{Type: TypeOffer, From: "r", Relay: true}, SDP: "v=0"}, map[string]any{"type": "offer", "from": "r", "relay": true, "sdp": "v=0"}},
		{"stats from the relay", Stats{Head: Head{Type: TypeStats, Sendto: "t"}, RelayWatchers: &watchers}, map[string]any{"type": "stats", "sendto": "t", "relayWatchers": 3.0}},
		{"a watcher's report, from the relay", Stats{Head: Head{Type: TypeStats, Sendto: "t"}, Report: Report{FPS: &zero}, Watcher: "w"},
			map[string]any{"type": "stats", "sendto": "t", "fps": 0.0, "watcher": "w"}},
		{"a watcher left the relay", Stats{Head: Head{Type: TypeStats, Sendto: "t"}, Watcher: "w", Left: true},
			map[string]any{"type": "stats", "sendto": "t", "watcher": "w", "left": true}},
		{"enter as the relay", EnterRequest{Room: "r", Role: RoleRelay, Key: "s"}, map[string]any{"room": "r", "role": "relay", "key": "s"}},
		{"signaling_error", SignalingError{Code: CodeRoomTaken, Message: "m"}, map[string]any{"code": "room_taken", "message": "m"}},
		{"entered", Entered{Room: "r", Role: RoleTalker, ICEServers: []ICEServer{}, Retake: "k"},
			map[string]any{"room": "r", "role": "talker", "iceServers": []any{}, "retake": "k"}},
		{"user disconnected", UserDisconnected{ID: "w"}, map[string]any{"id": "w"}},
		{"enter", EnterRequest{Room: "r", Role: RoleWatcher}, map[string]any{"room": "r", "role": "watcher"}},
	}
	for _, tt := range tests {
		raw, err := json.Marshal(tt.msg)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		var got map[string]any
		if err := json.Unmarshal(raw, &got); err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: %s, want %v", tt.name, raw, tt.want)
		}
	}
}

func TestTalkerOnly(t *testing.T) {
	want := map[string]bool{TypeTalkReady: true, TypeTalkReject: true, TypeOffer: true, TypeEndTalk: true}
	for _, typ := range Types {
		if TalkerOnly(typ) != want[typ] {
			t.Errorf("TalkerOnly(%q) = %v", typ, !want[typ])
		}
	}
}

// A Go peer reads a stats message's report and the relay's fields from
// Message.
func TestMessageReadsStats(t *testing.T) {
	var m Message
	raw := `{"type":"stats","from":"r","relay":true,"watcher":"w","left":true,"bitrate":1000,"rtt":0.02}`
	if err := json.Unmarshal([]byte(raw), &m); err != nil {
		t.Fatal(err)
	}
	if m.Watcher != "w" || !m.Left || !m.Relay || m.Bitrate == nil || *m.Bitrate != 1000 || m.RTT == nil || *m.RTT != 0.02 || m.FPS != nil {
		t.Fatalf("read %+v", m)
	}
}
