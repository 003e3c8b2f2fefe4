package static

import (
	"io/fs"
	"path"
	"regexp"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/broadcast-service/broadcast/protocol"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// otherWords are protocol words the pages also spell in another sense:
// WebRTC's RTCSdpType "offer" and "answer" (a session description's type),
// RTCPeerConnectionState "closed" and RTCIceTransportPolicy "relay" (with
// the pages' ?relay=1, media through TURN only), RTCPriorityType "high"
// (the audio's priority), and the status line's data-kind "full"
// (style.css).
var otherWords = map[string]bool{"offer": true, "answer": true, "closed": true, "full": true, "relay": true, "high": true}

// TestPagesSpellNoProtocolWord: the pages take the protocol's words from
// the server's /config (common.js's events, types, rejects, codes, layers
// and roles): no string in their scripts is one of those words, and every word
// they name is one the server has.
func TestPagesSpellNoProtocolWord(t *testing.T) {
	v := protocol.Vocabulary()
	words := map[string]bool{}
	named := map[string]map[string]string{"events": v.Events, "types": v.Types, "rejects": v.Rejects, "codes": v.Codes, "layers": v.Layers, "roles": {}}
	for name, r := range v.Roles {
		named["roles"][name] = string(r)
	}
	for _, m := range named {
		for _, w := range m {
			if w != "" {
				words[w] = true
			}
		}
	}
	scripts, err := fs.Glob(FS, "*.js")
	if err != nil || len(scripts) < 3 {
		t.Fatalf("page scripts %v: %v", scripts, err)
	}
	use := regexp.MustCompile(`\b(events|types|rejects|codes|layers|roles)\.([A-Za-z_$][\w$]*)`)
	for _, name := range scripts {
		src, err := fs.ReadFile(FS, name)
		if err != nil {
			t.Fatal(err)
		}
		code, literals := lexJS(string(src))
		for _, lit := range literals {
			if words[lit] && !otherWords[lit] {
				t.Errorf("%s spells the protocol's %q", path.Base(name), lit)
			}
		}
		for _, m := range use.FindAllStringSubmatch(code, -1) {
			if _, ok := named[m[1]][m[2]]; !ok {
				t.Errorf("%s names %s.%s, which the server's vocabulary has not", name, m[1], m[2])
			}
		}
	}
}

// lexJS splits JavaScript source into its code, with comments and string
// literals blanked, and the string literals ('…', "…" and `…` without
// ${}); enough for the pages, which hold no quote in a regular expression.
func lexJS(src string) (code string, literals []string) {
	var out strings.Builder
	for i := 0; i < len(src); i++ {
		c := src[i]
		switch {
		case strings.HasPrefix(src[i:], "//"):
			for i < len(src) && src[i] != '\n' {
				i++
			}
			out.WriteByte('\n')
		case strings.HasPrefix(src[i:], "/*"):
			end := strings.Index(src[i+2:], "*/")
			if end < 0 {
				return out.String(), literals
			}
			i += end + 3
			out.WriteByte(' ')
		case c == '\'' || c == '"' || c == '`':
			var lit strings.Builder
			for i++; i < len(src) && src[i] != c; i++ {
				if src[i] == '\\' && i+1 < len(src) {
					i++
				}
				lit.WriteByte(src[i])
			}
			if s := lit.String(); c != '`' || !strings.Contains(s, "${") {
				literals = append(literals, s)
			}
			out.WriteString(`""`)
		default:
			out.WriteByte(c)
		}
	}
	return out.String(), literals
}
