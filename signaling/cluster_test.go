package signaling

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/broadcast-service/broadcast/protocol"
)

// fakeCluster stands for the other nodes: a remote talker and members per
// room, and a record of what the hub asked of it.
type fakeCluster struct {
	mu      sync.Mutex
	talkers map[string]string          // room → talker id on another node
	members map[string]map[string]bool // room → ids on other nodes
	joinErr error
	calls   []string
}

func newFakeCluster() *fakeCluster {
	return &fakeCluster{talkers: map[string]string{}, members: map[string]map[string]bool{}}
}

func (f *fakeCluster) record(format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, fmt.Sprintf(format, args...))
}

func (f *fakeCluster) took(call string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Contains(f.calls, call)
}

func (f *fakeCluster) Join(room, id string, talker bool, limit int) error {
	f.record("join %s %s %v", room, id, talker)
	return f.joinErr
}
func (f *fakeCluster) ClaimTalker(room, id string) error {
	f.record("claim %s %s", room, id)
	return nil
}
func (f *fakeCluster) Leave(room, id string) { f.record("leave %s %s", room, id) }
func (f *fakeCluster) Talker(room string) (string, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	id, ok := f.talkers[room]
	return id, ok
}
func (f *fakeCluster) Member(room, id string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.members[room][id]
}
func (f *fakeCluster) Broadcast(room string, data []byte) int {
	f.record("broadcast %s %s", room, data)
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.members[room])
}
func (f *fakeCluster) Send(room, id string, data []byte) { f.record("send %s %s %s", room, id, data) }

func TestHubRoutesThroughCluster(t *testing.T) {
	cl := newFakeCluster()
	cl.talkers["a"] = "remote-talker"
	cl.members["b"] = map[string]bool{"remote-watcher": true}
	h := NewHub(Options{Cluster: cl})
	check := bystander(t, h)

	// A watcher whose talker is elsewhere reaches it through the cluster,
	// and only it.
	w := connect(t, h, "w", "a", protocol.RoleWatcher)
	if !cl.took("join a w false") {
		t.Fatalf("join not asked of the cluster: %v", cl.calls)
	}
	if err := w.Message([]byte(`{"type":"talk_request"}`)); err != nil {
		t.Fatal(err)
	}
	if !cl.took(`send a remote-talker {"type":"talk_request","from":"w"}`) {
		t.Fatalf("calls %v", cl.calls)
	}
	if err := w.Message([]byte(`{"type":"answer","sendto":"someone-else"}`)); !errors.Is(err, ErrUnknownRecipient) {
		t.Fatalf("watcher to a stranger: %v", err)
	}

	// A talker reaches members elsewhere one by one and all at once; a
	// stranger is refused.
	tk := connect(t, h, "t", "b", protocol.RoleTalker)
	if err := tk.Message([]byte(`{"type":"offer","sendto":"remote-watcher"}`)); err != nil {
		t.Fatal(err)
	}
	if err := tk.Message([]byte(`{"type":"offer","sendto":"w"}`)); !errors.Is(err, ErrUnknownRecipient) {
		t.Fatalf("talker to another room's socket: %v", err)
	}
	if err := tk.Message([]byte(`{"type":"talk_ready"}`)); err != nil {
		t.Fatal(err)
	}
	if !cl.took(`send b remote-watcher {"type":"offer","sendto":"remote-watcher","from":"t"}`) || !cl.took(`broadcast b {"type":"talk_ready","from":"t"}`) {
		t.Fatalf("calls %v", cl.calls)
	}

	// Deliveries from elsewhere reach their room only.
	h.Deliver("b", "", []byte(`{"type":"bye","from":"remote-watcher"}`))
	if m := decode(t, tk.next(t)); m["type"] != "bye" {
		t.Fatalf("talker got %v", m)
	}
	h.Deliver("b", "w", []byte(`{"type":"offer","from":"x"}`)) // w is in room a: dropped
	h.Deliver("no-such-room", "", []byte(`{}`))
	// Departures elsewhere: a watcher's reaches the talker here, a
	// talker's every member here.
	h.Departed("b", "remote-watcher", false)
	if f := tk.next(t); f.Event != protocol.EventUserDisconnected || decode(t, f)["id"] != "remote-watcher" {
		t.Fatalf("talker got %s %s", f.Event, f.Data)
	}
	h.Departed("a", "remote-talker", true)
	if f := w.next(t); f.Event != protocol.EventUserDisconnected || decode(t, f)["id"] != "remote-talker" {
		t.Fatalf("watcher got %s %s", f.Event, f.Data)
	}
	w.drained(t)
	tk.drained(t)

	// Moving rooms leaves the old one in the cluster too; leaving leaves.
	w.enter(t, protocol.EnterRequest{Room: "c", Role: protocol.RoleWatcher})
	w.Leave()
	if !cl.took("leave a w") || !cl.took("leave c w") {
		t.Fatalf("calls %v", cl.calls)
	}
	check()
}

func TestHubTakesClusterRefusals(t *testing.T) {
	cl := newFakeCluster()
	h := NewHub(Options{Cluster: cl})
	cl.joinErr = ErrRoomTaken
	p := connect(t, h, "p", "", protocol.RoleWatcher)
	if err := p.Enter(protocol.EnterRequest{Room: "a", Role: protocol.RoleTalker}); !errors.Is(err, ErrRoomTaken) || p.Room() != "" {
		t.Fatalf("enter refused by the cluster: %v, room %q", err, p.Room())
	}
	// A socket gone while the cluster let it in is taken out again.
	cl.joinErr = nil
	q := connect(t, h, "q", "", protocol.RoleWatcher)
	q.Leave()
	if err := q.Enter(protocol.EnterRequest{Room: "a", Role: protocol.RoleWatcher}); !errors.Is(err, ErrClosed) || !cl.took("leave a q") {
		t.Fatalf("enter after leaving: %v, calls %v", err, cl.calls)
	}
	// Kick: told why, then gone.
	k := connect(t, h, "k", "a", protocol.RoleTalker)
	h.Kick("k", ErrRoomTaken)
	if f := k.next(t); f.Event != protocol.EventError || decode(t, f)["code"] != "room_taken" {
		t.Fatalf("kicked socket got %s %s", f.Event, f.Data)
	}
	<-k.sink.done
	if h.Stats().Clients != 1 || !cl.took("leave a k") {
		t.Fatalf("after kick: %+v, calls %v", h.Stats(), cl.calls)
	}
	h.Kick("nobody", ErrRoomTaken)
}

// TestHubNeverRejoinsAClosedClient: a client that left while its change
// of role was asked of the cluster is not registered there again.
func TestHubNeverRejoinsAClosedClient(t *testing.T) {
	cl := newFakeCluster()
	h := NewHub(Options{Cluster: cl})
	p := connect(t, h, "p", "a", protocol.RoleWatcher)
	p.Leave()
	cl.mu.Lock()
	cl.calls = nil
	cl.mu.Unlock()
	if err := p.Enter(protocol.EnterRequest{Room: "a", Role: protocol.RoleTalker}); !errors.Is(err, ErrClosed) {
		t.Fatalf("change of role after leaving: %v, want ErrClosed", err)
	}
	cl.mu.Lock()
	defer cl.mu.Unlock()
	if n := len(cl.calls); n == 0 || cl.calls[n-1] != "leave a p" || slices.Contains(cl.calls, "join a p false") {
		t.Fatalf("cluster calls %v: the closed client must end out of the room", cl.calls)
	}
}
