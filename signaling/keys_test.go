package signaling

import (
	"errors"
	"testing"
	"time"

	"github.com/broadcast-service/broadcast/protocol"
)

func TestKeys(t *testing.T) {
	k := NewKeys([]byte("0123456789abcdef0123456789abcdef"))
	other := NewKeys([]byte("another secret of thirty-two b.."))
	now := time.Unix(1_800_000_000, 0)
	if err := k.CheckTalk("r", k.TalkKey("r")); err != nil {
		t.Errorf("own talk key: %v", err)
	}
	for _, key := range []string{"", "x", k.TalkKey("s"), other.TalkKey("r"), k.WatchKey("r", now.Add(time.Hour))} {
		if err := k.CheckTalk("r", key); !errors.Is(err, ErrBadKey) {
			t.Errorf("CheckTalk(%q) = %v, want ErrBadKey", key, err)
		}
	}
	good := k.WatchKey("r", now.Add(time.Minute))
	if err := k.CheckWatch("r", good, now); err != nil {
		t.Errorf("own watch key: %v", err)
	}
	if err := k.CheckWatch("r", good, now.Add(time.Minute)); !errors.Is(err, ErrExpired) {
		t.Errorf("at expiry: %v, want ErrExpired", err)
	}
	if _, err := k.WatchExpiry("r", k.WatchKey("r", now.Add(MaxWatchTTL+time.Second)), now); !errors.Is(err, ErrBadKey) {
		t.Errorf("a key valid past MaxWatchTTL: %v, want ErrBadKey", err)
	}
	if exp, err := k.WatchExpiry("r", good, now); err != nil || !exp.Equal(now.Add(time.Minute)) {
		t.Errorf("WatchExpiry = %v, %v; want %v", exp, err, now.Add(time.Minute))
	}
	for _, key := range []string{"", ".", "abc", "1.", ".sig", k.TalkKey("r"), k.WatchKey("s", now.Add(time.Hour)), other.WatchKey("r", now.Add(time.Hour))} {
		if err := k.CheckWatch("r", key, now); !errors.Is(err, ErrBadKey) {
			t.Errorf("CheckWatch(%q) = %v, want ErrBadKey", key, err)
		}
	}
}

func FuzzCheckWatch(f *testing.F) {
	k := NewKeys([]byte("0123456789abcdef0123456789abcdef"))
	now := time.Unix(1_800_000_000, 0)
	f.Add("r", k.WatchKey("r", now.Add(time.Hour)))
	f.Add("r", "1.x")
	f.Add("", "")
	f.Fuzz(func(t *testing.T, room, key string) {
		err := k.CheckWatch(room, key, now)
		if err == nil && key != k.WatchKey(room, time.Unix(parseExpiry(key), 0)) {
			t.Fatalf("CheckWatch(%q, %q) accepted a key it did not sign", room, key)
		}
		if err != nil && !errors.Is(err, ErrBadKey) && !errors.Is(err, ErrExpired) {
			t.Fatalf("CheckWatch: unexpected %v", err)
		}
	})
}

func parseExpiry(key string) int64 {
	var n int64
	for _, c := range key {
		if c == '.' {
			break
		}
		n = n*10 + int64(c-'0')
	}
	return n
}

func FuzzParseEnter(f *testing.F) {
	for _, s := range []string{`"lecture1"`, `{"room":"r","role":"talker","key":"k"}`, `{"room":"r","role":"watcher"}`, `{"room":"r","role":"relay","key":"s"}`, `{"room":"r","role":"Relay"}`, `{"room":1}`, `null`, `[]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		req, err := ParseEnter(raw)
		if err != nil {
			if !errors.Is(err, ErrBadRoom) && !errors.Is(err, ErrBadKey) {
				t.Fatalf("ParseEnter(%q): unexpected %v", raw, err)
			}
			return
		}
		if ValidRoomName(req.Room) != nil || len(req.Key) > MaxKeyBytes {
			t.Fatalf("ParseEnter(%q) = %+v: invalid request accepted", raw, req)
		}
		if req.Role != protocol.RolePlain && req.Role != protocol.RoleTalker && req.Role != protocol.RoleWatcher && req.Role != protocol.RoleRelay {
			t.Fatalf("ParseEnter(%q): role %q", raw, req.Role)
		}
	})
}

func FuzzValidRoomName(f *testing.F) {
	for _, s := range []string{"lecture1", "Hörsaal 3", "", " x", "a/b", "講義"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		if ValidRoomName(name) != nil {
			return
		}
		for _, r := range name {
			if r == '/' || r == '<' || r == '"' || r == '\\' || r < ' ' {
				t.Fatalf("ValidRoomName(%q) accepted %q", name, r)
			}
		}
	})
}
