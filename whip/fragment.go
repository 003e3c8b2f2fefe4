package whip

import (
	"fmt"
	"strings"
)

// MaxFragmentCandidates is the most candidates one PATCH may carry.
const MaxFragmentCandidates = 64

// fragment is a trickle-ice-sdpfrag body (RFC 8840 §9.2) as a WHIP
// client sends it (RFC 9725 §4.3.1): its ICE credentials, if given, and
// its candidates, each with the media section it belongs to.
type fragment struct {
	ufrag, pwd string
	candidates []fragCandidate
}

// fragCandidate is one candidate of a fragment: its attribute's value
// ("candidate:…", as RTCIceCandidateInit has it) and its media section's
// mid (may be "") and index among the fragment's media sections.
type fragCandidate struct {
	line  string
	mid   string
	index uint16
}

// parseFragment reads a trickle-ice-sdpfrag body. It returns an error
// wrapping ErrBadSDP for a line that is not SDP ("x=value"), a candidate
// attribute with nothing after it, or more than MaxFragmentCandidates
// candidates. Attributes it has no use for (ice-options,
// end-of-candidates, group) are skipped.
func parseFragment(body string) (fragment, error) {
	var f fragment
	sections := 0
	mid := ""
	for n, line := range strings.Split(body, "\n") {
		line = strings.TrimSuffix(line, "\r")
		if line == "" {
			continue
		}
		if len(line) < 2 || line[1] != '=' {
			return f, fmt.Errorf("%w: line %d is not SDP", ErrBadSDP, n+1)
		}
		if line[0] == 'm' {
			sections++
			mid = ""
			continue
		}
		if line[0] != 'a' {
			continue
		}
		key, value, _ := strings.Cut(line[2:], ":")
		switch key {
		case "ice-ufrag":
			f.ufrag = value
		case "ice-pwd":
			f.pwd = value
		case "mid":
			mid = value
		case "candidate":
			if value == "" {
				return f, fmt.Errorf("%w: line %d: an empty candidate", ErrBadSDP, n+1)
			}
			if len(f.candidates) == MaxFragmentCandidates {
				return f, fmt.Errorf("%w: over %d candidates", ErrBadSDP, MaxFragmentCandidates)
			}
			index := max(sections-1, 0)
			if index > 0xffff {
				return f, fmt.Errorf("%w: too many media sections", ErrBadSDP)
			}
			f.candidates = append(f.candidates, fragCandidate{line: "candidate:" + value, mid: mid, index: uint16(index)})
		}
	}
	return f, nil
}
