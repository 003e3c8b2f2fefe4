package signaling

import (
	"testing"
	"time"
)

func TestTURNCredentials(t *testing.T) {
	// The password is HMAC-SHA1(secret, username) in base64, as coturn checks
	// it; this vector comes from
	// printf %s 1700003600:sock1 | openssl dgst -sha1 -hmac secret -binary | base64
	turn := TURN{URLs: []string{"turn:127.0.0.1:3478"}, Secret: []byte("secret"), TTL: time.Hour,
		Now: func() time.Time { return time.Unix(1_700_000_000, 0) }}
	got := turn.Credentials("sock1")
	if got.Username != "1700003600:sock1" {
		t.Errorf("username %q", got.Username)
	}
	if got.Credential != "e6lZ9egg1QD5N2+R/Os2nY/U+i4=" {
		t.Errorf("credential %q", got.Credential)
	}
	if len(got.URLs) != 1 || got.URLs[0] != "turn:127.0.0.1:3478" {
		t.Errorf("urls %v", got.URLs)
	}
}
