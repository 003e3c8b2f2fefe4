package whip

import (
	"errors"
	"strings"
	"testing"
)

// A client's trickle-ice-sdpfrag body: parsed or refused with ErrBadSDP,
// never a panic; every candidate kept is "candidate:" and something, in a
// section the body has, within MaxFragmentCandidates.
func FuzzParseFragment(f *testing.F) {
	f.Add("a=ice-ufrag:EsAw\r\na=ice-pwd:P2uYro0UCOQ4zxjKXaWCBui1\r\nm=audio 9 RTP/AVP 0\r\na=mid:0\r\na=candidate:1387637174 1 udp 2122260223 192.0.2.1 61764 typ host generation 0 ufrag EsAw network-id 1\r\na=end-of-candidates\r\n")
	f.Add("a=candidate:\n")
	f.Add("m=\nm=\na=mid:x\na=candidate:1 1 udp 1 ::1 9 typ host")
	f.Add("x")
	f.Fuzz(func(t *testing.T, body string) {
		frag, err := parseFragment(body)
		if err != nil {
			if !errors.Is(err, ErrBadSDP) {
				t.Fatalf("error %v is not ErrBadSDP", err)
			}
			return
		}
		if len(frag.candidates) > MaxFragmentCandidates {
			t.Fatalf("%d candidates kept", len(frag.candidates))
		}
		sections := strings.Count("\n"+body, "\nm=")
		for _, c := range frag.candidates {
			if !strings.HasPrefix(c.line, "candidate:") || len(c.line) == len("candidate:") {
				t.Fatalf("candidate %q", c.line)
			}
			if sections > 0 && int(c.index) >= sections {
				t.Fatalf("candidate in section %d of %d", c.index, sections)
			}
		}
	})
}

// A client's SDP offer (a publisher's or a player's), before anything of
// it reaches pion or the relay:
// taken with its ice-ufrag, or refused with ErrBadSDP or ErrUnacceptable,
// never a panic.
func FuzzCheckOffer(f *testing.F) {
	f.Add(testOffer, true)
	f.Add(strings.Replace(testOffer, "a=sendonly", "a=recvonly", -1), false)
	f.Add("v=0\r\n", true)
	f.Fuzz(func(t *testing.T, raw string, sends bool) {
		ufrag, err := checkOffer(raw, sends)
		switch {
		case err == nil && ufrag == "":
			t.Fatal("taken with no ice-ufrag")
		case err != nil && !errors.Is(err, ErrBadSDP) && !errors.Is(err, ErrUnacceptable):
			t.Fatalf("error %v is neither ErrBadSDP nor ErrUnacceptable", err)
		}
	})
}
