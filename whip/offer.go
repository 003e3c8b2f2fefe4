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

// checkOffer reads a publisher's SDP offer and returns its ICE username
// fragment. It returns an error wrapping ErrBadSDP if raw does not parse
// or lacks the ICE credentials or DTLS fingerprint a WebRTC offer has
// (RFC 8829), and ErrUnacceptable if no media section sends audio or
// video (sendonly or sendrecv) in a codec the relay forwards.
func checkOffer(raw string) (ufrag string, err error) {
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
	sends := false
	for _, m := range s.MediaDescriptions {
		kind := m.MediaName.Media
		if _, ok := forwarded[kind]; !ok || m.MediaName.Port.Value == 0 {
			continue
		}
		u, hasUfrag := attr(m, "ice-ufrag")
		_, hasPwd := attr(m, "ice-pwd")
		_, hasFingerprint := attr(m, "fingerprint")
		switch {
		case !hasUfrag || !hasPwd:
			return "", fmt.Errorf("%w: the %s section has no ICE credentials (ice-ufrag, ice-pwd)", ErrBadSDP, kind)
		case !hasFingerprint:
			return "", fmt.Errorf("%w: the %s section has no DTLS fingerprint", ErrBadSDP, kind)
		}
		if ufrag == "" {
			ufrag = u
		}
		if _, ok := m.Attribute("recvonly"); ok {
			continue
		}
		if _, ok := m.Attribute("inactive"); ok {
			continue
		}
		if sendsCodec(m, forwarded[kind]) {
			sends = true
		}
	}
	if !sends {
		return "", fmt.Errorf("%w: no media section sends Opus audio or VP8, VP9 or H.264 video", ErrUnacceptable)
	}
	return ufrag, nil
}

// sendsCodec reports whether media section m offers one of codecs, by
// its rtpmap attributes ("96 VP8/90000").
func sendsCodec(m *sdp.MediaDescription, codecs []string) bool {
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
