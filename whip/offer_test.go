package whip

import (
	"errors"
	"strings"
	"testing"

	"github.com/pion/webrtc/v4"
)

// testOffer is a publisher's offer as GStreamer's whip-client makes it,
// trimmed: VP8 video and Opus audio, sending.
const testOffer = "v=0\r\no=- 1 0 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\na=group:BUNDLE video0 audio1\r\n" +
	"m=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=ice-ufrag:Ab3d\r\na=ice-pwd:0123456789abcdef0123456789\r\n" +
	"a=fingerprint:sha-256 AA:BB\r\na=setup:actpass\r\na=mid:video0\r\na=sendonly\r\na=rtpmap:96 VP8/90000\r\n" +
	"m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=ice-ufrag:Ab3d\r\na=ice-pwd:0123456789abcdef0123456789\r\n" +
	"a=fingerprint:sha-256 AA:BB\r\na=setup:actpass\r\na=mid:audio1\r\na=sendonly\r\na=rtpmap:111 OPUS/48000/2\r\n"

// An offer is taken when a section sends a codec the relay forwards, and
// refused, saying why, when it lacks what WebRTC needs or sends nothing
// the relay can forward.
func TestCheckOffer(t *testing.T) {
	for _, tc := range []struct {
		what, sdp string
		want      error
	}{
		{"VP8 and Opus", testOffer, nil},
		{"H.264 alone", strings.Replace(testOffer, "VP8/90000", "H264/90000", 1), nil},
		{"video in AV1 only, audio sent", strings.Replace(testOffer, "VP8/90000", "AV1/90000", 1), nil},
		{"AV1 and G.722", strings.Replace(strings.Replace(testOffer, "VP8/90000", "AV1/90000", 1), "OPUS/48000/2", "G722/8000", 1), ErrUnacceptable},
		{"receiving only", strings.ReplaceAll(testOffer, "a=sendonly", "a=recvonly"), ErrUnacceptable},
		{"inactive", strings.ReplaceAll(testOffer, "a=sendonly", "a=inactive"), ErrUnacceptable},
		{"no fingerprint", strings.ReplaceAll(testOffer, "a=fingerprint:sha-256 AA:BB\r\n", ""), ErrBadSDP},
		{"no ICE password", strings.ReplaceAll(testOffer, "a=ice-pwd:0123456789abcdef0123456789\r\n", ""), ErrBadSDP},
		{"not SDP", "hello", ErrBadSDP},
	} {
		ufrag, err := checkOffer(tc.sdp, sending)
		if !errors.Is(err, tc.want) || (err == nil && ufrag != "Ab3d") {
			t.Errorf("%s: %q, %v; want %v", tc.what, ufrag, err, tc.want)
		}
	}
	// A player's offer receives.
	receiving := strings.ReplaceAll(testOffer, "a=sendonly", "a=recvonly")
	if _, err := checkOffer(receiving, false); err != nil {
		t.Errorf("a player's offer: %v", err)
	}
	if _, err := checkOffer(testOffer, false); !errors.Is(err, ErrUnacceptable) {
		t.Errorf("a player's offer that only sends: %v", err)
	}
}

// A fragment's candidates keep their sections' mids and indexes; its
// credentials are read; what is not SDP is refused.
func TestParseFragment(t *testing.T) {
	f, err := parseFragment("a=ice-ufrag:Ab3d\r\na=ice-pwd:pw\r\na=group:BUNDLE 0 1\r\nm=video 9 UDP 0\r\na=mid:v\r\na=candidate:1 1 udp 9 192.0.2.1 5000 typ host\r\nm=audio 9 UDP 0\r\na=mid:a\r\na=candidate:2 1 udp 9 192.0.2.1 5001 typ host\r\na=end-of-candidates\r\n")
	if err != nil {
		t.Fatal(err)
	}
	if f.ufrag != "Ab3d" || f.pwd != "pw" || len(f.candidates) != 2 {
		t.Fatalf("%+v", f)
	}
	if c := f.candidates[1]; c.mid != "a" || c.index != 1 || c.line != "candidate:2 1 udp 9 192.0.2.1 5001 typ host" {
		t.Errorf("second candidate %+v", c)
	}
	if _, err := parseFragment("a=candidate:1\r\nnot sdp\r\n"); !errors.Is(err, ErrBadSDP) {
		t.Errorf("a line that is not SDP: %v", err)
	}
	if _, err := parseFragment(strings.Repeat("a=candidate:1 1 udp 9 192.0.2.1 5000 typ host\n", MaxFragmentCandidates+1)); !errors.Is(err, ErrBadSDP) {
		t.Errorf("too many candidates: %v", err)
	}
}

// ICE servers go as Link headers per RFC 9725 §4.4, TURN with its
// credentials quoted.
func TestLinkHeaders(t *testing.T) {
	got := linkHeaders([]webrtc.ICEServer{
		{URLs: []string{"stun:stun.example.net:3478"}},
		{URLs: []string{"turn:turn.example.net?transport=udp", "turns:turn.example.net:5349"}, Username: "1700000000:W1", Credential: `p"w`},
	})
	want := []string{
		`<stun:stun.example.net:3478>; rel="ice-server"`,
		`<turn:turn.example.net?transport=udp>; rel="ice-server"; username="1700000000:W1"; credential="p\"w"; credential-type="password"`,
		`<turns:turn.example.net:5349>; rel="ice-server"; username="1700000000:W1"; credential="p\"w"; credential-type="password"`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
