package signaling

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Keys signs and checks room keys with a server secret (HMAC-SHA256, per
// RFC 2104). A talk key lets its holder broadcast to one room; a watch key
// lets its holder watch one private room until it expires.
type Keys struct {
	secret []byte
}

// NewKeys returns Keys for secret, which should hold at least 32 random bytes.
func NewKeys(secret []byte) *Keys {
	return &Keys{secret: append([]byte(nil), secret...)}
}

func (k *Keys) mac(parts ...string) string {
	m := hmac.New(sha256.New, k.secret)
	m.Write([]byte(strings.Join(parts, "\x00")))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// TalkKey returns the key that makes its holder the talker of room.
func (k *Keys) TalkKey(room string) string { return k.mac("talk", room) }

// WatchKey returns a key to watch room until expires, as
// "<unix seconds>.<signature>".
func (k *Keys) WatchKey(room string, expires time.Time) string {
	exp := strconv.FormatInt(expires.Unix(), 10)
	return exp + "." + k.mac("watch", room, exp)
}

// CheckTalk returns ErrBadKey unless key is room's talk key.
func (k *Keys) CheckTalk(room, key string) error {
	if !hmac.Equal([]byte(key), []byte(k.TalkKey(room))) {
		return fmt.Errorf("%w: not the talk key of this room", ErrBadKey)
	}
	return nil
}

// MaxWatchTTL is the longest a watch key may be valid for: a week, a
// lecture series' worth. Longer keys are neither signed by `broadcast
// keys` nor accepted.
const MaxWatchTTL = 7 * 24 * time.Hour

// CheckWatch returns ErrBadKey unless key is a watch key signed for room,
// and ErrExpired if it is one whose time has passed at now.
func (k *Keys) CheckWatch(room, key string, now time.Time) error {
	_, err := k.WatchExpiry(room, key, now)
	return err
}

// WatchExpiry checks key as CheckWatch does and returns when it expires. A
// key expiring more than MaxWatchTTL after now is ErrBadKey.
func (k *Keys) WatchExpiry(room, key string, now time.Time) (time.Time, error) {
	exp, sig, ok := strings.Cut(key, ".")
	unix, err := strconv.ParseInt(exp, 10, 64)
	if !ok || err != nil || !hmac.Equal([]byte(sig), []byte(k.mac("watch", room, exp))) {
		return time.Time{}, fmt.Errorf("%w: not a watch key of this room", ErrBadKey)
	}
	expires := time.Unix(unix, 0)
	switch {
	case now.Unix() >= unix:
		return time.Time{}, fmt.Errorf("%w: watch key expired at %s", ErrExpired, expires.UTC().Format(time.RFC3339))
	case expires.Sub(now) > MaxWatchTTL:
		return time.Time{}, fmt.Errorf("%w: a watch key lasts at most %v", ErrBadKey, MaxWatchTTL)
	}
	return expires, nil
}
