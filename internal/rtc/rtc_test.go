package rtc

import "testing"

func TestICEUfrag(t *testing.T) {
	const head = "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n"
	tests := []struct {
		name, sdp, want string
	}{
		{"session level", head + "a=ice-ufrag:sess\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=ice-ufrag:media\r\n", "sess"},
		{"first media section", head + "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=ice-ufrag:second\r\n", "second"},
		{"none", head + "m=video 9 UDP/TLS/RTP/SAVPF 96\r\n", ""},
		{"not SDP", "a=ice-ufrag:loose", ""},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		if got := ICEUfrag(tt.sdp); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
}
