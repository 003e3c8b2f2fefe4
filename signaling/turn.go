package signaling

import (
	"crypto/hmac"
	"crypto/sha1" //nolint:gosec // the TURN REST scheme coturn implements is HMAC-SHA1
	"encoding/base64"
	"strconv"
	"time"

	"github.com/broadcast-service/broadcast/protocol"
)

// DefaultTURNTTL is how long TURN credentials last when TURN.TTL is zero:
// long enough for a session's ICE restarts, short enough that a leaked
// credential soon stops working.
const DefaultTURNTTL = time.Hour

// TURN makes short-lived credentials for a TURN server that shares a secret
// with this one (coturn's use-auth-secret, the "TURN REST API" scheme): the
// username is "<expiry, unix seconds>:<socket id>" and the password the
// base64 HMAC-SHA1 of the username under the secret.
type TURN struct {
	// URLs are the turn: / turns: URLs of the server.
	URLs []string
	// Secret is coturn's static-auth-secret.
	Secret []byte
	// TTL is how long credentials last; zero means DefaultTURNTTL.
	TTL time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Credentials returns the ICE server entry for one socket.
func (t TURN) Credentials(socketID string) protocol.ICEServer {
	now, ttl := time.Now, t.TTL
	if t.Now != nil {
		now = t.Now
	}
	if ttl <= 0 {
		ttl = DefaultTURNTTL
	}
	user := strconv.FormatInt(now().Add(ttl).Unix(), 10) + ":" + socketID
	m := hmac.New(sha1.New, t.Secret)
	m.Write([]byte(user))
	return protocol.ICEServer{URLs: t.URLs, Username: user, Credential: base64.StdEncoding.EncodeToString(m.Sum(nil))}
}
