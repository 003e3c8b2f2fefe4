package whip

import (
	"fmt"
	"slices"
	"strings"

	"github.com/pion/sdp/v3"
)

// forwarded are the codecs the relay forwards, by kind, as SDP's rtpmap
// names them (case-insensitive).
var forwarded = map[string][]string{
	"audio": {"opus"},
	"video": {"VP8", "VP9", "H264"},
}

// Directions an offer must have media in: a publisher's sends, a
// player's receives.
const (
	sending   = true
	receiving = false
)

// checkOffer reads a client's SDP offer and returns its ICE username
// fragment. It returns an error wrapping ErrBadSDP if raw does not parse
// or lacks the ICE credentials or DTLS fingerprint a WebRTC offer has
// (RFC 8829), and ErrUnacceptable if no media section sends (with sends:
// sendonly or sendrecv) or receives (recvonly or sendrecv) audio or video
// in a codec the relay forwards.
func checkOffer(raw string, sends bool) (ufrag string, err error) {
	var s sdp.SessionDescription
	if err := s.UnmarshalString(raw); err != nil {
		return "", fmt.Errorf("%w: %v", ErrBadSDP, err)
	}
	attr := func(m *sdp.MediaDescription, key string) (string, bool) {
		if v, ok := m.Attribute(key); ok {
			return v, true
		}
		return s.Attribute(key)
	}
	media := false
	for _, m := range s.MediaDescriptions {
		kind := m.MediaName.Media
		if _, ok := forwarded[kind]; !ok || m.MediaName.Port.Value == 0 {
			continue
		}
		u, hasUfrag := attr(m, "ice-ufrag")
		pwd, hasPwd := attr(m, "ice-pwd")
		_, hasFingerprint := attr(m, "fingerprint")
		switch {
		case !hasUfrag || !hasPwd || u == "" || pwd == "":
			return "", fmt.Errorf("%w: the %s section has no ICE credentials (ice-ufrag, ice-pwd)", ErrBadSDP, kind)
		case !hasFingerprint:
			return "", fmt.Errorf("%w: the %s section has no DTLS fingerprint", ErrBadSDP, kind)
		}
		if ufrag == "" {
			ufrag = u
		}
		against := "recvonly"
		if !sends {
			against = "sendonly"
		}
		if _, ok := m.Attribute(against); ok {
			continue
		}
		if _, ok := m.Attribute("inactive"); ok {
			continue
		}
		if offersCodec(m, forwarded[kind]) {
			media = true
		}
	}
	if !media {
		what := "sends"
		if !sends {
			what = "receives"
		}
		return "", fmt.Errorf("%w: no media section %s Opus audio or VP8, VP9 or H.264 video", ErrUnacceptable, what)
	}
	return ufrag, nil
}

// offersCodec reports whether media section m offers one of codecs, by
// its rtpmap attributes ("96 VP8/90000").
func offersCodec(m *sdp.MediaDescription, codecs []string) bool {
	for _, a := range m.Attributes {
		if a.Key != "rtpmap" {
			continue
		}
		_, enc, ok := strings.Cut(a.Value, " ")
		name, _, _ := strings.Cut(enc, "/")
		if ok && slices.ContainsFunc(codecs, func(c string) bool { return strings.EqualFold(c, name) }) {
			return true
		}
	}
	return false
}
