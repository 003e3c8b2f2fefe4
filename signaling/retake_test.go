package signaling

import (
	"testing"
	"time"

	"github.com/broadcast-service/broadcast/protocol"
)

// enterAsTalker enters p as the talker of room with a retake token and
// returns the token `entered` hands it.
func enterAsTalker(t *testing.T, p peer, room, retake string) string {
	t.Helper()
	if err := p.Enter(protocol.EnterRequest{Room: room, Role: protocol.RoleTalker, Retake: retake}); err != nil {
		t.Fatalf("%s: %v", p.ID(), err)
	}
	f := p.next(t)
	token, _ := decode(t, f)["retake"].(string)
	if f.Event != protocol.EventEntered || len(token) < 22 {
		t.Fatalf("%s got %s %s, want entered with a retake token", p.ID(), f.Event, f.Data)
	}
	return token
}

// An open room whose talker is lost on air is held for it: within
// protocol.RetakeWindow only its retake token takes the room back, and neither a
// watcher's claim nor another talker gets in. A talker that ends its
// broadcast, or one never on air, leaves the room free.
func TestRetakeTokenHoldsARoomLostOnAir(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	h := NewHub(Options{Now: func() time.Time { return now }})
	check := bystander(t, h)
	a := connect(t, h, "a", "", protocol.RolePlain)
	token := enterAsTalker(t, a, "r", "")
	plain := connect(t, h, "plain", "r", protocol.RolePlain)
	if err := a.Message([]byte(`{"type":"talk_ready"}`)); err != nil {
		t.Fatal(err)
	}
	plain.next(t)
	a.Leave() // lost on air
	if f := plain.next(t); f.Event != protocol.EventUserDisconnected {
		t.Fatalf("plain-enter client got %s", f.Event)
	}

	refused(t, plain, plain.Message([]byte(`{"type":"talk_ready"}`)), ErrNotTalker)
	b := connect(t, h, "b", "", protocol.RolePlain)
	refused(t, b, b.Enter(protocol.EnterRequest{Room: "r", Role: protocol.RoleTalker}), ErrRoomTaken)
	refused(t, b, b.Enter(protocol.EnterRequest{Room: "r", Role: protocol.RoleTalker, Retake: token + "x"}), ErrRoomTaken)
	a2 := connect(t, h, "a2", "", protocol.RolePlain)
	if got := enterAsTalker(t, a2, "r", token); got != token {
		t.Errorf("retaken with token %q, want the same %q", got, token)
	}
	check()

	// Ending the broadcast gives the room up at once.
	for _, m := range []string{`{"type":"talk_ready"}`, `{"type":"end_talk"}`} {
		if err := a2.Message([]byte(m)); err != nil {
			t.Fatal(err)
		}
		plain.next(t)
	}
	a2.Leave()
	plain.next(t)
	tokenB := enterAsTalker(t, b, "r", "")
	if tokenB == token {
		t.Error("a new talker got the old talker's token")
	}

	// A hold runs out after protocol.RetakeWindow.
	if err := b.Message([]byte(`{"type":"talk_ready"}`)); err != nil {
		t.Fatal(err)
	}
	plain.next(t)
	b.Leave()
	plain.next(t)
	c := connect(t, h, "c", "", protocol.RolePlain)
	refused(t, c, c.Enter(protocol.EnterRequest{Room: "r", Role: protocol.RoleTalker}), ErrRoomTaken)
	now = now.Add(protocol.RetakeWindow)
	enterAsTalker(t, c, "r", "")
	check()
}
