package signaling

import (
	"crypto/rand"
	"encoding/base64"
	"time"

	"github.com/broadcast-service/broadcast/protocol"
)

// reservation holds an open room for a talker that was lost.
type reservation struct {
	token string
	until time.Time
}

// tokenBytes is the length of a random token (a socket id, a retake
// token), in bytes: 128 bits, which nobody can guess.
const tokenBytes = 16

// randomToken returns tokenBytes random bytes, base64url-encoded (22
// characters).
func randomToken() string {
	var b [tokenBytes]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// reservedLocked reports whether room is held for a lost talker whose
// token is not token. Hub.mu must be held.
func (h *Hub) reservedLocked(room, token string) bool {
	res, ok := h.reserved[room]
	if !ok {
		return false
	}
	if !h.now().Before(res.until) {
		delete(h.reserved, room)
		return false
	}
	return res.token != token
}

// becomeTalkerLocked gives c, the new talker of room in an open hub, its
// retake token: the one it presented if it retook the room, else a new
// one. Hub.mu must be held.
func (h *Hub) becomeTalkerLocked(c *Client, room, presented string) {
	if h.opts.Keys != nil {
		return // keyed rooms: the talk key is what lets a talker back
	}
	if res, ok := h.reserved[room]; ok && res.token == presented {
		c.retake = presented
	} else {
		c.retake = randomToken()
	}
	delete(h.reserved, room)
}

// reserveLocked holds room for c, its talker, lost on air, and forgets
// reservations that have run out. Hub.mu must be held.
func (h *Hub) reserveLocked(room string, c *Client) {
	if c.retake == "" || !c.onAir.Load() {
		return
	}
	now := h.now()
	for name, res := range h.reserved {
		if !now.Before(res.until) {
			delete(h.reserved, name)
		}
	}
	h.reserved[room] = reservation{token: c.retake, until: now.Add(protocol.RetakeWindow)}
}
