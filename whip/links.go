package whip

import (
	"strings"

	"github.com/pion/webrtc/v4"
)

// linkHeaders are the ICE servers as Link header values (RFC 9725 §4.4):
// one per URL, TURN ones with their username and credential.
func linkHeaders(servers []webrtc.ICEServer) []string {
	var out []string
	for _, s := range servers {
		for _, u := range s.URLs {
			v := "<" + u + `>; rel="ice-server"`
			if s.Username != "" {
				cred, _ := s.Credential.(string)
				v += `; username="` + quote(s.Username) + `"; credential="` + quote(cred) + `"; credential-type="password"`
			}
			out = append(out, v)
		}
	}
	return out
}

// quote escapes s for a quoted-string (RFC 9110 §5.6.4).
func quote(s string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s)
}
