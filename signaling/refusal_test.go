package signaling

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/broadcast-service/broadcast/protocol"
)

// refused asserts err is want and that the client alone is told so, with
// want's code.
func refused(t *testing.T, p peer, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("%s: got %v, want %v", p.ID(), err, want)
	}
	p.Error(err)
	if m := decode(t, p.next(t)); m["code"] != Code(want) || m["message"] == "" {
		t.Fatalf("%s: error frame %v, want code %s", p.ID(), m, Code(want))
	}
}

func TestOpenRoomHijacks(t *testing.T) {
	h := NewHub(Options{})
	check := bystander(t, h)
	talker := connect(t, h, "talker", "r", protocol.RoleTalker)
	watcher := connect(t, h, "watcher", "r", protocol.RoleWatcher)
	plain := connect(t, h, "plain", "r", protocol.RolePlain)

	second := connect(t, h, "second", "", protocol.RolePlain)
	refused(t, second, second.Enter(protocol.EnterRequest{Room: "r", Role: protocol.RoleTalker}), ErrRoomTaken)
	for _, p := range []peer{watcher, plain} {
		refused(t, p, p.Message([]byte(`{"type":"talk_ready"}`)), ErrNotTalker)
		refused(t, p, p.Message([]byte(`{"type":"offer","sdp":"v=0","sendto":"watcher"}`)), ErrNotTalker)
		refused(t, p, p.Message([]byte(`{"type":"talk_reject","reason":"full","sendto":"plain"}`)), ErrNotTalker)
		refused(t, p, p.Message([]byte(`{"type":"end_talk"}`)), ErrNotTalker)
	}
	refused(t, watcher, watcher.Message([]byte(`{"type":"candidate","sendto":"plain"}`)), ErrUnknownRecipient)
	talker.drained(t)
	watcher.drained(t)
	plain.drained(t)
	check()

	// The room is free once its talker leaves.
	talker.Leave()
	for _, p := range []peer{watcher, plain} {
		if f := p.next(t); f.Event != protocol.EventUserDisconnected {
			t.Fatalf("%s got %s", p.ID(), f.Event)
		}
	}
	second.enter(t, protocol.EnterRequest{Room: "r", Role: protocol.RoleTalker})
	check()
}

// Only a client that entered with a plain room name may claim the talker
// role; one that entered as a watcher stays one.
func TestExplicitWatcherCannotClaimTalker(t *testing.T) {
	h := NewHub(Options{})
	check := bystander(t, h)
	w := connect(t, h, "w", "r", protocol.RoleWatcher)
	refused(t, w, w.Message([]byte(`{"type":"talk_ready"}`)), ErrNotTalker)
	if w.IsTalker() {
		t.Fatal("an explicit watcher claimed the talker role")
	}
	// Re-entering with a plain room name makes it a plain-enter client again.
	w.enter(t, protocol.EnterRequest{Room: "r"})
	if err := w.Message([]byte(`{"type":"talk_ready"}`)); err != nil || !w.IsTalker() {
		t.Fatalf("plain-enter claim: %v, talker %v", err, w.IsTalker())
	}
	check()
}

func TestPlainEnterClaimsTalkerWithFirstTalkReady(t *testing.T) {
	h := NewHub(Options{})
	check := bystander(t, h)
	a := connect(t, h, "a", "r", protocol.RolePlain)
	b := connect(t, h, "b", "r", protocol.RolePlain)
	c := connect(t, h, "c", "r", protocol.RolePlain)
	// Before any talker, a plain-enter room-wide message reaches nobody.
	if err := b.Message([]byte(`{"type":"talk_request"}`)); err != nil {
		t.Fatal(err)
	}
	if err := a.Message([]byte(`{"type":"talk_ready"}`)); err != nil {
		t.Fatal(err)
	}
	if !a.IsTalker() {
		t.Fatal("a did not become the talker")
	}
	for _, p := range []peer{b, c} {
		if m := decode(t, p.next(t)); m["type"] != "talk_ready" || m["from"] != "a" {
			t.Fatalf("%s got %v", p.ID(), m)
		}
	}
	refused(t, b, b.Message([]byte(`{"type":"talk_ready"}`)), ErrNotTalker)
	// A plain-enter watcher's room-wide talk_request reaches the talker alone.
	if err := c.Message([]byte(`{"type":"talk_request"}`)); err != nil {
		t.Fatal(err)
	}
	if m := decode(t, a.next(t)); m["type"] != "talk_request" || m["from"] != "c" {
		t.Fatalf("talker got %v", m)
	}
	a.drained(t)
	b.drained(t)
	c.drained(t)
	check()
}

func TestKeyedRooms(t *testing.T) {
	keys := NewKeys([]byte("0123456789abcdef0123456789abcdef"))
	now := time.Unix(1_800_000_000, 0)
	h := NewHub(Options{Keys: keys, Now: func() time.Time { return now }})
	check := bystanderKeyed(t, h, keys)
	a := connect(t, h, "a", "", protocol.RolePlain)
	refused(t, a, a.Enter(protocol.EnterRequest{Room: "r", Role: protocol.RoleTalker}), ErrBadKey)
	refused(t, a, a.Enter(protocol.EnterRequest{Room: "r", Role: protocol.RoleTalker, Key: "forged"}), ErrBadKey)
	refused(t, a, a.Enter(protocol.EnterRequest{Room: "r", Role: protocol.RoleTalker, Key: keys.TalkKey("other")}), ErrBadKey)
	a.enter(t, protocol.EnterRequest{Room: "r", Role: protocol.RoleTalker, Key: keys.TalkKey("r")})

	// Open watching, but a key that is shown must verify.
	w := connect(t, h, "w", "r", protocol.RolePlain)
	v := connect(t, h, "v", "", protocol.RolePlain)
	refused(t, v, v.Enter(protocol.EnterRequest{Room: "r", Role: protocol.RoleWatcher, Key: "1.forged"}), ErrBadKey)
	// No plain-enter claim in a keyed hub.
	a.Leave()
	if f := w.next(t); f.Event != protocol.EventUserDisconnected {
		t.Fatalf("w got %s", f.Event)
	}
	refused(t, w, w.Message([]byte(`{"type":"talk_ready"}`)), ErrNotTalker)
	check()
}

func TestPrivateRoomsNeedWatchKeys(t *testing.T) {
	keys := NewKeys([]byte("0123456789abcdef0123456789abcdef"))
	now := time.Unix(1_800_000_000, 0)
	h := NewHub(Options{Keys: keys, PrivateRooms: true, Now: func() time.Time { return now }})
	check := bystanderKeyed(t, h, keys)
	w := connect(t, h, "w", "", protocol.RolePlain)
	refused(t, w, w.Enter(protocol.EnterRequest{Room: "r"}), ErrBadKey)
	refused(t, w, w.Enter(protocol.EnterRequest{Room: "r", Role: protocol.RoleWatcher}), ErrBadKey)
	refused(t, w, w.Enter(protocol.EnterRequest{Room: "r", Role: protocol.RoleWatcher, Key: keys.WatchKey("r", now.Add(-time.Second))}), ErrExpired)
	refused(t, w, w.Enter(protocol.EnterRequest{Room: "r", Role: protocol.RoleWatcher, Key: keys.WatchKey("other", now.Add(time.Hour))}), ErrBadKey)
	forged := keys.WatchKey("r", now.Add(time.Hour))
	forged = forged[:len(forged)-2] + "AA"
	refused(t, w, w.Enter(protocol.EnterRequest{Room: "r", Role: protocol.RoleWatcher, Key: forged}), ErrBadKey)
	// Moving the expiry invalidates the signature.
	good := keys.WatchKey("r", now.Add(time.Hour))
	_, sig, _ := strings.Cut(good, ".")
	refused(t, w, w.Enter(protocol.EnterRequest{Room: "r", Role: protocol.RoleWatcher, Key: "9999999999." + sig}), ErrBadKey)
	w.enter(t, protocol.EnterRequest{Room: "r", Role: protocol.RoleWatcher, Key: good})
	check()
}

// A watcher is dropped when its watch key expires, told `expired`; its
// talker hears it leave.
func TestWatcherIsDroppedWhenItsKeyExpires(t *testing.T) {
	keys := NewKeys([]byte("0123456789abcdef0123456789abcdef"))
	expires := time.Unix(1_800_000_000, 0)
	now := expires.Add(-100 * time.Millisecond) // keys count whole seconds
	h := NewHub(Options{Keys: keys, PrivateRooms: true, Now: func() time.Time { return now }})
	check := bystanderKeyed(t, h, keys)
	talker := connect(t, h, "talker", "", protocol.RolePlain)
	talker.enter(t, protocol.EnterRequest{Room: "r", Role: protocol.RoleTalker, Key: keys.TalkKey("r")})
	w := connect(t, h, "w", "", protocol.RolePlain)
	w.enter(t, protocol.EnterRequest{Room: "r", Role: protocol.RoleWatcher, Key: keys.WatchKey("r", expires)})
	select {
	case <-w.sink.done:
	case <-time.After(waitFor):
		t.Fatal("the watcher stayed after its key expired")
	}
	if m := decode(t, w.next(t)); m["code"] != "expired" {
		t.Errorf("watcher told %v, want expired", m)
	}
	if f := talker.next(t); f.Event != protocol.EventUserDisconnected || decode(t, f)["id"] != "w" {
		t.Errorf("talker got %s %s", f.Event, f.Data)
	}
	check()
}

// bystanderKeyed is bystander for a keyed hub with private rooms.
func bystanderKeyed(t *testing.T, h *Hub, keys *Keys) func() {
	t.Helper()
	y := connect(t, h, "bystander-talker", "", protocol.RolePlain)
	y.enter(t, protocol.EnterRequest{Room: "bystanders", Role: protocol.RoleTalker, Key: keys.TalkKey("bystanders")})
	z := connect(t, h, "bystander-watcher", "", protocol.RolePlain)
	z.enter(t, protocol.EnterRequest{Room: "bystanders", Role: protocol.RoleWatcher, Key: keys.WatchKey("bystanders", h.now().Add(time.Hour))})
	return stillDelivers(t, y, z)
}

func TestMessageSizeLimit(t *testing.T) {
	h := NewHub(Options{Limits: Limits{MessageBytes: 1024}})
	check := bystander(t, h)
	a := connect(t, h, "a", "r", protocol.RoleTalker)
	b := connect(t, h, "b", "r", protocol.RoleWatcher)
	big := []byte(`{"type":"talk_ready","pad":"` + strings.Repeat("x", 1024) + `"}`)
	refused(t, a, a.Message(big), ErrTooLarge)
	b.drained(t)
	check()
}

func TestRateLimit(t *testing.T) {
	h := NewHub(Options{Limits: Limits{MessagesPerSecond: 0.001, MessageBurst: 3}})
	check := bystander(t, h)
	a := connect(t, h, "a", "r", protocol.RoleTalker)
	b := connect(t, h, "b", "r", protocol.RoleWatcher)
	for range 3 {
		if err := a.Message([]byte(`{"type":"talk_ready"}`)); err != nil {
			t.Fatal(err)
		}
		b.next(t)
	}
	refused(t, a, a.Message([]byte(`{"type":"talk_ready"}`)), ErrRateLimited)
	b.drained(t)
	check()

	// Going on regardless is abuse: the socket is dropped.
	for range AbuseRefusals {
		_ = a.Message([]byte(`{"type":"talk_ready"}`))
	}
	if f := b.next(t); f.Event != protocol.EventUserDisconnected || decode(t, f)["id"] != "a" {
		t.Fatalf("watcher got %s %s, want the talker dropped", f.Event, f.Data)
	}
	// The eviction tells the room, then closes the socket, on a goroutine.
	select {
	case <-a.sink.done:
	case <-time.After(10 * time.Second):
		t.Error("the abusive socket is still open")
	}
}

func TestSocketLimits(t *testing.T) {
	h := NewHub(Options{Limits: Limits{RoomSockets: 3, AddrSockets: 3, Sockets: 10}})
	check := bystander(t, h) // 2 sockets
	connect(t, h, "a", "r", protocol.RoleTalker)
	connect(t, h, "b", "r", protocol.RoleWatcher)
	connect(t, h, "c", "r", protocol.RoleWatcher)
	d := connect(t, h, "d", "", protocol.RolePlain) // 6 sockets
	refused(t, d, d.Enter(protocol.EnterRequest{Room: "r", Role: protocol.RoleWatcher}), ErrRoomFull)

	accept := func(id, addr string) {
		t.Helper()
		c, err := h.Connect(id, addr, newMemSink())
		if err != nil {
			t.Fatalf("%s from %s: %v", id, addr, err)
		}
		t.Cleanup(c.Leave)
	}
	refuse := func(id, addr, why string) {
		t.Helper()
		_, err := h.Connect(id, addr, newMemSink())
		if !errors.Is(err, ErrTooManySockets) || !strings.Contains(err.Error(), why) {
			t.Fatalf("%s from %s: %v, want too many sockets (%s)", id, addr, err, why)
		}
	}
	for _, id := range []string{"e", "f", "g"} {
		accept(id, "192.0.2.7") // 9 sockets
	}
	refuse("h", "192.0.2.7", "from your address")
	accept("i", "198.51.100.1") // 10 sockets
	refuse("j", "203.0.113.5", "the server has 10")
	check()
}

// Refuse tells the socket why, then closes it.
func TestRefuseSaysWhyThenCloses(t *testing.T) {
	s := newMemSink()
	Refuse(s, ErrTooManySockets)
	f := <-s.frames
	if f.Event != protocol.EventError || !strings.Contains(string(f.Data), `"too_many_sockets"`) {
		t.Fatalf("got %s %s", f.Event, f.Data)
	}
	select {
	case <-s.done:
	case <-time.After(waitFor):
		t.Fatal("not closed")
	}
}

func TestBadRoomAndNotInRoom(t *testing.T) {
	h := NewHub(Options{})
	check := bystander(t, h)
	a := connect(t, h, "a", "", protocol.RolePlain)
	refused(t, a, a.Message([]byte(`{"type":"talk_ready"}`)), ErrNotInRoom)
	for _, name := range []string{"", "a/b", strings.Repeat("r", MaxRoomNameRunes+1), "<x>"} {
		refused(t, a, a.Enter(protocol.EnterRequest{Room: name, Role: protocol.RoleWatcher}), ErrBadRoom)
	}
	check()
}

// A socket cycling room names is refused past its enter bucket, before the
// hub or the cluster does any work for it, and dropped if it goes on.
func TestEnterRateLimit(t *testing.T) {
	cl := newFakeCluster()
	h := NewHub(Options{Cluster: cl, Limits: Limits{EntersPerSecond: 0.001, EnterBurst: 5}})
	check := bystander(t, h)
	a := connect(t, h, "a", "", protocol.RoleWatcher)
	for i := range 5 {
		a.enter(t, protocol.EnterRequest{Room: fmt.Sprintf("r%d", i), Role: protocol.RoleWatcher})
	}
	refused(t, a, a.Enter(protocol.EnterRequest{Room: "r5", Role: protocol.RoleWatcher}), ErrRateLimited)
	if cl.took("join r5 a false") {
		t.Error("a refused enter reached the cluster")
	}
	if got := a.Room(); got != "r4" {
		t.Errorf("a is in %q, want r4", got)
	}
	check()
	for range AbuseRefusals {
		_ = a.Enter(protocol.EnterRequest{Room: "r6", Role: protocol.RoleWatcher})
	}
	select {
	case <-a.sink.done:
	case <-time.After(10 * time.Second):
		t.Error("the abusive socket is still open")
	}
	if st := h.Stats(); st.Rooms != 1 { // the bystander's
		t.Errorf("%d rooms left, want the bystander's alone", st.Rooms)
	}
}
