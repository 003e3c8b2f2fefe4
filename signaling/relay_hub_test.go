package signaling

import (
	"errors"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/broadcast-service/broadcast/protocol"
)

const testRelaySecret = "s3cret"

// startCalls is a RelayStarter that counts its calls per room.
type startCalls chan string

func (s startCalls) StartRelay(room string) error {
	select {
	case s <- room:
	default:
	}
	return nil
}

// relayPeer enters a relay in room.
func relayPeer(t *testing.T, h *Hub, id, room string) peer {
	t.Helper()
	p := connect(t, h, id, "", protocol.RolePlain)
	p.enter(t, protocol.EnterRequest{Room: room, Role: protocol.RoleRelay, Key: testRelaySecret})
	if !p.IsRelay() {
		t.Fatalf("%s entered, but not as the relay", id)
	}
	return p
}

func send(t *testing.T, p peer, msg string) {
	t.Helper()
	if err := p.Message([]byte(msg)); err != nil {
		t.Fatalf("%s sent %s: %v", p.ID(), msg, err)
	}
}

// The relay counts toward no room_full, and is let in at the limit.
func TestRelayDoesNotCountTowardRoomFull(t *testing.T) {
	h := NewHub(Options{RelaySecret: testRelaySecret, Limits: Limits{RoomSockets: 2}})
	connect(t, h, "t", "r", protocol.RoleTalker)
	connect(t, h, "w", "r", protocol.RoleWatcher)
	relayPeer(t, h, "relay", "r") // at the limit, let in
	w2 := connect(t, h, "w2", "", protocol.RoleWatcher)
	refused(t, w2, w2.Enter(protocol.EnterRequest{Room: "r", Role: protocol.RoleWatcher}), ErrRoomFull)

	h2 := NewHub(Options{RelaySecret: testRelaySecret, Limits: Limits{RoomSockets: 2}})
	connect(t, h2, "t", "r", protocol.RoleTalker)
	relayPeer(t, h2, "relay", "r")
	connect(t, h2, "w", "r", protocol.RoleWatcher) // the relay holds no place
	if st := h2.Stats(); st.Relays != 1 || st.Talkers != 1 {
		t.Fatalf("stats %+v", st)
	}
	if rs := h2.Rooms(); len(rs) != 1 || !rs[0].Relay || rs[0].Members != 3 {
		t.Fatalf("rooms %+v", rs)
	}
}

// A relay is in the room as the relay: not as a watcher and not as a
// talker, whatever it asks.
func TestRelayEnteredAsRelay(t *testing.T) {
	h := NewHub(Options{RelaySecret: testRelaySecret, Keys: NewKeys([]byte("k")), PrivateRooms: true})
	r := connect(t, h, "relay", "", protocol.RolePlain)
	if err := r.Enter(protocol.EnterRequest{Room: "r", Role: protocol.RoleRelay, Key: testRelaySecret}); err != nil {
		t.Fatalf("relay in a private, keyed hub: %v", err)
	}
	if m := decode(t, r.next(t)); m["role"] != "relay" {
		t.Fatalf("entered %v", m)
	}
	refused(t, r, r.Message([]byte(`{"type":"talk_ready"}`)), ErrNotTalker)
	if r.IsTalker() {
		t.Fatal("the relay became the talker")
	}
	// A watcher's key is no relay's key.
	w := connect(t, h, "w", "", protocol.RolePlain)
	refused(t, w, w.Enter(protocol.EnterRequest{Room: "r", Role: protocol.RoleRelay, Key: h.opts.Keys.TalkKey("r")}), ErrBadKey)
}

// The relay is not held to a watcher's message rate: it speaks for all
// its watchers.
func TestRelayIsNotRateLimited(t *testing.T) {
	lim := Limits{MessagesPerSecond: 1, MessageBurst: 1}
	h := NewHub(Options{RelaySecret: testRelaySecret, Limits: lim})
	connect(t, h, "t", "r", protocol.RoleTalker)
	w := connect(t, h, "w", "r", protocol.RoleWatcher)
	relay := relayPeer(t, h, "relay", "r")
	for i := range 20 {
		send(t, relay, fmt.Sprintf(`{"type":"candidate","candidate":"c%d","sendto":"w"}`, i))
		if m := decode(t, w.next(t)); m["candidate"] != fmt.Sprintf("c%d", i) || m["relay"] != true || m["from"] != "relay" {
			t.Fatalf("watcher got %v", m)
		}
	}
	send(t, w, `{"type":"candidate","sendto":"relay"}`)
	refused(t, w, w.Message([]byte(`{"type":"candidate","sendto":"relay"}`)), ErrRateLimited)
}

// At most RelayHeld requests wait for a room's relay: past it, the
// talker's reject is delivered at once. A repeated request replaces its
// own. The talker leaving drops what was held.
func TestRelayHoldIsBounded(t *testing.T) {
	start := make(startCalls, 8)
	h := NewHub(Options{Relay: start, RelaySecret: testRelaySecret, RelayHeld: 2})
	talker := connect(t, h, "t", "r", protocol.RoleTalker)
	ws := make([]peer, 3)
	for i := range ws {
		ws[i] = connect(t, h, fmt.Sprintf("w%d", i), "r", protocol.RoleWatcher)
	}
	send(t, talker, `{"type":"talk_reject","reason":"full","sendto":"w0"}`)
	send(t, talker, `{"type":"talk_reject","reason":"full","sendto":"w0"}`) // asked again
	send(t, talker, `{"type":"talk_reject","reason":"full","sendto":"w1"}`)
	send(t, talker, `{"type":"talk_reject","reason":"full","sendto":"w2"}`) // one too many
	if m := decode(t, ws[2].next(t)); m["type"] != "talk_reject" || m["from"] != "t" {
		t.Fatalf("w2 got %v", m)
	}
	if got := <-start; got != "r" || len(start) != 0 {
		t.Fatalf("relay started for %q, then %d more times", got, len(start))
	}
	ws[0].drained(t)
	ws[1].drained(t)

	// A watcher gone meanwhile is not handed over.
	ws[1].Leave()
	talker.next(t) // its departure
	relay := relayPeer(t, h, "relay", "r")
	if m := decode(t, relay.next(t)); m["type"] != "talk_request" || m["from"] != "w0" {
		t.Fatalf("relay got %v", m)
	}
	relay.drained(t)

	// The talker leaving drops the held: nothing reaches anyone later.
	relay.Leave()
	send(t, talker, `{"type":"talk_reject","reason":"full","sendto":"w0"}`)
	talker.Leave()
	if f := ws[0].next(t); f.Event != protocol.EventUserDisconnected {
		t.Fatalf("w0 got %s %s", f.Event, f.Data)
	}
	if f := ws[0].next(t); f.Event != protocol.EventUserDisconnected {
		t.Fatalf("w0 got %s %s", f.Event, f.Data)
	}
	h.holds.mu.Lock()
	n := len(h.holds.rooms)
	h.holds.mu.Unlock()
	if n != 0 {
		t.Fatalf("%d rooms still held after their talker left", n)
	}
}

// With -redis: a relay here serves watchers on other nodes, and a relay
// on another node is reached by the watchers here once a message of it
// was delivered here.
func TestRelayAcrossNodes(t *testing.T) {
	cl := newFakeCluster()
	cl.members["a"] = map[string]bool{"remote-w": true}
	start := make(startCalls, 8)
	h := NewHub(Options{Cluster: cl, Relay: start, RelaySecret: testRelaySecret, RelayMode: RelayAlways})

	// The talker, on air, and its relay here; a watcher elsewhere.
	talker := connect(t, h, "t", "a", protocol.RoleTalker)
	send(t, talker, `{"type":"talk_ready"}`)
	relay := relayPeer(t, h, "relay", "a")
	if !cl.took(fmt.Sprintf("join a relay %v", false)) {
		t.Fatalf("calls %v", cl.calls)
	}
	h.Deliver("a", "t", []byte(`{"type":"talk_request","from":"remote-w"}`))
	if m := decode(t, relay.next(t)); m["type"] != "talk_request" || m["from"] != "remote-w" {
		t.Fatalf("relay got %v, want the remote watcher's request (always)", m)
	}
	send(t, relay, `{"type":"offer","sdp":"v=0","sendto":"remote-w"}`)
	if !cl.took(`send a remote-w {"type":"offer","sdp":"v=0","sendto":"remote-w","relay":true,"from":"relay"}`) {
		t.Fatalf("calls %v", cl.calls)
	}
	h.Deliver("a", "relay", []byte(`{"type":"answer","sdp":"v=0","sendto":"relay","from":"remote-w"}`))
	if m := decode(t, relay.next(t)); m["type"] != "answer" || m["from"] != "remote-w" {
		t.Fatalf("relay got %v", m)
	}
	h.Departed("a", "remote-w", false)
	for _, p := range []peer{talker, relay} {
		if f := p.next(t); f.Event != protocol.EventUserDisconnected || decode(t, f)["id"] != "remote-w" {
			t.Fatalf("%s got %s %s", p.ID(), f.Event, f.Data)
		}
	}
	talker.drained(t)

	// A watcher here, its talker and relay elsewhere.
	cl.talkers["b"] = "remote-t"
	cl.members["b"] = map[string]bool{"remote-t": true, "remote-relay": true}
	w := connect(t, h, "w", "b", protocol.RoleWatcher)
	other := connect(t, h, "w2", "b", protocol.RoleWatcher)
	refused(t, w, w.Message([]byte(`{"type":"answer","sendto":"remote-relay"}`)), ErrUnknownRecipient)
	h.Deliver("b", "w", []byte(`{"type":"offer","sdp":"v=0","sendto":"w","relay":true,"from":"remote-relay"}`))
	if m := decode(t, w.next(t)); m["relay"] != true || m["from"] != "remote-relay" {
		t.Fatalf("watcher got %v", m)
	}
	send(t, w, `{"type":"answer","sdp":"v=1","sendto":"remote-relay"}`)
	if !cl.took(`send b remote-relay {"type":"answer","sdp":"v=1","sendto":"remote-relay","from":"w"}`) {
		t.Fatalf("calls %v", cl.calls)
	}
	// A watcher elsewhere is still no one a watcher here may reach.
	refused(t, w, w.Message([]byte(`{"type":"answer","sendto":"remote-t2"}`)), ErrUnknownRecipient)
	// The relay leaving elsewhere is told to every member here.
	h.Departed("b", "remote-relay", false)
	for _, p := range []peer{w, other} {
		if f := p.next(t); f.Event != protocol.EventUserDisconnected || decode(t, f)["id"] != "remote-relay" {
			t.Fatalf("%s got %s %s", p.ID(), f.Event, f.Data)
		}
	}
	cl.mu.Lock()
	delete(cl.members["b"], "remote-relay")
	cl.mu.Unlock()
	refused(t, w, w.Message([]byte(`{"type":"answer","sendto":"remote-relay"}`)), ErrUnknownRecipient)
	w.drained(t)
	other.drained(t)
}

// The relay joins the cluster with no room limit; the others with one
// more place while the room has a relay.
func TestRelayRoomLimitAcrossNodes(t *testing.T) {
	h := NewHub(Options{RelaySecret: testRelaySecret, Limits: Limits{RoomSockets: 5}})
	if got := h.roomLimit("r", role{relay: true}); got != math.MaxInt32 {
		t.Fatalf("relay's limit %d", got)
	}
	connect(t, h, "t", "r", protocol.RoleTalker)
	if got := h.roomLimit("r", role{}); got != 5 {
		t.Fatalf("limit without a relay %d", got)
	}
	relayPeer(t, h, "relay", "r")
	if got := h.roomLimit("r", role{}); got != 6 {
		t.Fatalf("limit with a relay %d", got)
	}
}

func TestParseRelayMode(t *testing.T) {
	for _, s := range []string{"auto", "off", "always"} {
		if m, err := ParseRelayMode(s); err != nil || string(m) != s {
			t.Errorf("%q: %q, %v", s, m, err)
		}
	}
	for _, s := range []string{"", "on", "Auto"} {
		if _, err := ParseRelayMode(s); !errors.Is(err, ErrBadRelayMode) {
			t.Errorf("%q: %v, want ErrBadRelayMode", s, err)
		}
	}
}

// The hold's timer: requests past their time are delivered, the others
// wait on.
func TestRelayHoldExpiresInOrder(t *testing.T) {
	h := NewHub(Options{RelayHold: time.Hour})
	delivered := make(chan string, 2)
	h.holds.hold(h, "r", "old", nil, func() { delivered <- "old" })
	h.holds.hold(h, "r", "new", nil, func() { delivered <- "new" })
	h.holds.mu.Lock()
	g := h.holds.rooms["r"]
	g.items["old"].until = time.Now().Add(-time.Second)
	h.holds.mu.Unlock()
	h.holds.expire("r", g)
	if got := <-delivered; got != "old" || len(delivered) != 0 {
		t.Fatalf("delivered %q and %d more", got, len(delivered))
	}
	if items := h.holds.take("r"); len(items) != 1 || items["new"] == nil {
		t.Fatalf("still held %v", items)
	}
}

// Relays, which all connect from the server's own address, do not count
// toward the sockets per address once they are in their rooms.
func TestRelaysDoNotCountPerAddress(t *testing.T) {
	h := NewHub(Options{RelaySecret: testRelaySecret, Limits: Limits{AddrSockets: 2}})
	for i := range 5 {
		c, err := h.Connect(fmt.Sprintf("relay%d", i), "127.0.0.1", newMemSink())
		if err != nil {
			t.Fatalf("relay %d: %v", i, err)
		}
		t.Cleanup(c.Leave)
		if err := c.Enter(protocol.EnterRequest{Room: fmt.Sprintf("r%d", i), Role: protocol.RoleRelay, Key: testRelaySecret}); err != nil {
			t.Fatal(err)
		}
	}
	// Others from the address still count, and a relay leaving frees no
	// place it did not hold.
	for i := range 2 {
		if _, err := h.Connect(fmt.Sprintf("w%d", i), "127.0.0.1", newMemSink()); err != nil {
			t.Fatalf("watcher %d: %v", i, err)
		}
	}
	h.mu.RLock()
	relay0 := h.clients["relay0"]
	h.mu.RUnlock()
	relay0.Leave()
	if _, err := h.Connect("w2", "127.0.0.1", newMemSink()); !errors.Is(err, ErrTooManySockets) {
		t.Fatalf("third watcher from the address: %v, want ErrTooManySockets", err)
	}
	for _, id := range []string{"w0", "w1"} {
		h.mu.RLock()
		c := h.clients[id]
		h.mu.RUnlock()
		c.Leave()
	}
	h.mu.RLock()
	n := len(h.perAddr)
	h.mu.RUnlock()
	if n != 0 {
		t.Fatalf("per-address counts left: %d", n)
	}
}

// In always mode, a request to a talker not yet on air is held, starting
// no relay: the relay started by the talker's talk_ready takes it, and
// the talker never hears it.
func TestRelayAlwaysWaitsForOnAir(t *testing.T) {
	start := make(startCalls, 8)
	h := NewHub(Options{Relay: start, RelaySecret: testRelaySecret, RelayMode: RelayAlways})
	talker := connect(t, h, "t", "r", protocol.RoleTalker)
	w := connect(t, h, "w", "r", protocol.RoleWatcher)
	send(t, w, `{"type":"talk_request"}`)
	if len(start) != 0 {
		t.Fatal("a relay was started for a talker off air")
	}
	send(t, talker, `{"type":"talk_ready"}`)
	if got := <-start; got != "r" {
		t.Fatalf("relay started for %q", got)
	}
	w.next(t) // talk_ready
	relay := relayPeer(t, h, "rl", "r")
	if m := decode(t, relay.next(t)); m["type"] != "talk_request" || m["from"] != "w" {
		t.Fatalf("relay got %v", m)
	}
	send(t, w, `{"type":"talk_request"}`)
	if m := decode(t, relay.next(t)); m["type"] != "talk_request" || m["from"] != "w" {
		t.Fatalf("relay got %v", m)
	}
	talker.drained(t)
}

// A request held for a talker not on air yet gets the whole hold again
// when the talker goes on air and its relay starts: the relay has
// Options.RelayHold to enter, however long the talker took.
func TestRelayAlwaysOnAirRenewsTheHold(t *testing.T) {
	const hold = time.Hour
	start := make(startCalls, 8)
	h := NewHub(Options{Relay: start, RelaySecret: testRelaySecret, RelayMode: RelayAlways, RelayHold: hold})
	talker := connect(t, h, "t", "r", protocol.RoleTalker)
	w := connect(t, h, "w", "r", protocol.RoleWatcher)
	send(t, w, `{"type":"talk_request"}`)
	held := func() *held { return h.holds.rooms["r"].items["w"] } // with h.holds.mu held
	// As if it had waited most of its hold for the talker.
	h.holds.mu.Lock()
	held().until = time.Now().Add(time.Second)
	h.holds.mu.Unlock()
	send(t, talker, `{"type":"talk_ready"}`)
	<-start
	h.holds.mu.Lock()
	left := time.Until(held().until)
	h.holds.mu.Unlock()
	if left < hold-time.Minute {
		t.Fatalf("the request held %v more once the relay started, want %v", left, hold)
	}
}

// In always mode, a request to a talker that never goes on air reaches it
// once held Options.RelayHold, as without a relay.
func TestRelayAlwaysOffAirHoldTimesOutToTheTalker(t *testing.T) {
	const hold = 100 * time.Millisecond
	start := make(startCalls, 8)
	h := NewHub(Options{Relay: start, RelaySecret: testRelaySecret, RelayMode: RelayAlways, RelayHold: hold})
	talker := connect(t, h, "t", "r", protocol.RoleTalker)
	w := connect(t, h, "w", "r", protocol.RoleWatcher)
	sent := time.Now()
	send(t, w, `{"type":"talk_request"}`)
	if m := decode(t, talker.next(t)); m["type"] != "talk_request" || m["from"] != "w" {
		t.Fatalf("talker got %v", m)
	}
	if held := time.Since(sent); held < hold {
		t.Errorf("the talker heard the request %v after it was sent, want it held %v", held, hold)
	}
	if len(start) != 0 {
		t.Fatal("a relay was started for a talker off air")
	}
}

// A watcher back on a restarted node asks to resume its session with the
// room's relay, on the talker's node, which this node has not heard from:
// that talk_request goes to the member it names, and nothing else does.
// The relay's node delivers a talk_request only to its talker or relay.
func TestRelayResumeFromARestartedNode(t *testing.T) {
	cl := newFakeCluster()
	cl.talkers["b"] = "remote-t"
	cl.members["b"] = map[string]bool{"remote-t": true, "remote-relay": true}
	h := NewHub(Options{Cluster: cl, RelaySecret: testRelaySecret})
	w := connect(t, h, "w", "b", protocol.RoleWatcher)
	send(t, w, `{"type":"talk_request","resume":"u1","sendto":"remote-relay"}`)
	if !cl.took(`send b remote-relay {"type":"talk_request","resume":"u1","sendto":"remote-relay","from":"w"}`) {
		t.Fatalf("calls %v", cl.calls)
	}
	refused(t, w, w.Message([]byte(`{"type":"answer","sendto":"remote-relay"}`)), ErrUnknownRecipient)
	refused(t, w, w.Message([]byte(`{"type":"talk_request","sendto":"nobody"}`)), ErrUnknownRecipient)

	// On the relay's node, a talk_request from elsewhere for a watcher.
	other := connect(t, h, "w2", "b", protocol.RoleWatcher)
	h.Deliver("b", "w2", []byte(`{"type":"talk_request","sendto":"w2","from":"remote-w"}`))
	h.Deliver("b", "w2", []byte(`{"type":"offer","sdp":"v=0","sendto":"w2","from":"remote-t"}`))
	if m := decode(t, other.next(t)); m["type"] != "offer" {
		t.Fatalf("watcher got %v, want only the talker's offer", m)
	}
	w.drained(t)
	other.drained(t)
}

// A talker that serves the relay alone (talk_ready {relayed: true}, a WHIP
// publisher) has the relay started at once in auto mode, and every
// watcher's talk_request goes to the relay: the talker never hears one.
// Its end_talk ends that: back on air without the flag, it hears them.
func TestRelayedTalkerInAutoMode(t *testing.T) {
	start := make(startCalls, 8)
	h := NewHub(Options{Relay: start, RelaySecret: testRelaySecret, RelayMode: RelayAuto})
	talker := connect(t, h, "t", "r", protocol.RoleTalker)
	w := connect(t, h, "w", "r", protocol.RoleWatcher)
	send(t, talker, `{"type":"talk_ready","relayed":true}`)
	if got := <-start; got != "r" {
		t.Fatalf("relay started for %q", got)
	}
	w.next(t) // talk_ready
	relay := relayPeer(t, h, "rl", "r")
	send(t, w, `{"type":"talk_request"}`)
	if m := decode(t, relay.next(t)); m["type"] != "talk_request" || m["from"] != "w" {
		t.Fatalf("relay got %v", m)
	}
	talker.drained(t)

	send(t, talker, `{"type":"end_talk"}`)
	send(t, talker, `{"type":"talk_ready"}`)
	for range 2 { // end_talk, talk_ready
		w.next(t)
	}
	send(t, w, `{"type":"talk_request"}`)
	if m := decode(t, talker.next(t)); m["type"] != "talk_request" || m["from"] != "w" {
		t.Fatalf("the talker, on air with its own watchers, got %v", m)
	}
}
