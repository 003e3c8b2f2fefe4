package cluster_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/broadcast-service/broadcast/cluster"
	"github.com/broadcast-service/broadcast/internal/redistest"
	"github.com/broadcast-service/broadcast/protocol"
	"github.com/broadcast-service/broadcast/signaling"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// ttl is the liveness TTL of the test nodes: a dead one is noticed within
// ttl + ttl/5. Long enough that a node starved of CPU on a loaded machine
// is not taken for dead.
const ttl = 2 * time.Second

// wait bounds every wait for something that must happen.
const wait = 10 * time.Second

type node struct {
	hub   *signaling.Hub
	cl    *cluster.Cluster
	state chan bool
	n     int
}

func startNode(t testing.TB, url string, limits signaling.Limits) *node {
	t.Helper()
	return startNodeWith(t, url, signaling.Options{Limits: limits})
}

// startNodeWith starts a node whose hub has opts (its Cluster set here).
func startNodeWith(t testing.TB, url string, opts signaling.Options) *node {
	t.Helper()
	return startNodeTTL(t, url, opts, ttl)
}

// startNodeTTL is startNodeWith with a liveness TTL of live.
func startNodeTTL(t testing.TB, url string, opts signaling.Options, live time.Duration) *node {
	t.Helper()
	nd := &node{state: make(chan bool, 16)}
	cl, err := cluster.New(cluster.Options{URL: url, TTL: live, OnState: func(up bool) { nd.state <- up }})
	if err != nil {
		t.Fatal(err)
	}
	nd.cl = cl
	opts.Cluster = cl
	nd.hub = signaling.NewHub(opts)
	cl.Start(nd.hub)
	if !cl.Up() || !<-nd.state {
		t.Fatal("node did not join the cluster")
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		defer cancel()
		_ = nd.hub.Close(ctx)
		_ = cl.Close(ctx)
	})
	return nd
}

// waitState waits for the node's cluster to report up (or down).
func (nd *node) waitState(t testing.TB, up bool) {
	t.Helper()
	deadline := time.After(wait)
	for {
		select {
		case s := <-nd.state:
			if s == up {
				return
			}
		case <-deadline:
			t.Fatalf("node never reported up=%v", up)
		}
	}
}

// eventually waits, up to timeout, for cond to hold, checking it every
// 10 ms.
func eventually(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.After(timeout)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-tick.C:
		case <-deadline:
			t.Fatalf("not within %v: %s", timeout, what)
		}
	}
}

// peer is a client of a hub whose frames land in a channel.
type peer struct {
	t      testing.TB
	c      *signaling.Client
	frames chan *signaling.Frame
}

type sink struct{ frames chan *signaling.Frame }

func (s sink) WriteFrames(fs []*signaling.Frame) error {
	for _, f := range fs {
		s.frames <- f
	}
	return nil
}
func (s sink) Close() error { return nil }

func (nd *node) join(t testing.TB, room string, role protocol.Role) *peer {
	t.Helper()
	p, err := nd.enter(t, room, role)
	if err != nil {
		t.Fatalf("enter %s as %s: %v", room, role, err)
	}
	return p
}

func (nd *node) enter(t testing.TB, room string, role protocol.Role) (*peer, error) {
	t.Helper()
	return nd.enterWith(t, protocol.EnterRequest{Room: room, Role: role})
}

// enterWith connects a peer and enters it as req asks.
func (nd *node) enterWith(t testing.TB, req protocol.EnterRequest) (*peer, error) {
	t.Helper()
	room, role := req.Room, req.Role
	nd.n++
	frames := make(chan *signaling.Frame, 256)
	c, err := nd.hub.Connect(fmt.Sprintf("%s-%s-%d-%p", room, role, nd.n, nd), "", sink{frames})
	if err != nil {
		t.Fatal(err)
	}
	p := &peer{t: t, c: c, frames: frames}
	t.Cleanup(c.Leave)
	if err := c.Enter(req); err != nil {
		c.Leave()
		return nil, err
	}
	p.want(protocol.EventEntered, "")
	return p, nil
}

// send emits a message; it must be accepted.
func (p *peer) send(msg string) {
	p.t.Helper()
	if err := p.c.Message([]byte(msg)); err != nil {
		p.t.Fatalf("%s sends %s: %v", p.c.ID(), msg, err)
	}
}

// want returns the next frame, which must be event with data containing
// substr.
func (p *peer) want(event, substr string) map[string]any {
	p.t.Helper()
	select {
	case f := <-p.frames:
		if f.Event != event || !strings.Contains(string(f.Data), substr) {
			p.t.Fatalf("%s got %s %s, want %s with %q", p.c.ID(), f.Event, f.Data, event, substr)
		}
		var m map[string]any
		_ = json.Unmarshal(f.Data, &m)
		return m
	case <-time.After(wait):
		p.t.Fatalf("%s: no %s with %q", p.c.ID(), event, substr)
	}
	return nil
}

func TestRoutingAcrossNodes(t *testing.T) {
	rs := redistest.Start(t)
	n1, n2, n3 := startNode(t, rs.URL(), signaling.Limits{}), startNode(t, rs.URL(), signaling.Limits{}), startNode(t, rs.URL(), signaling.Limits{})

	talker := n1.join(t, "a", protocol.RoleTalker)
	w2 := n2.join(t, "a", protocol.RoleWatcher)
	w3 := n3.join(t, "a", protocol.RoleWatcher)
	otherTalker := n1.join(t, "b", protocol.RoleTalker)
	otherWatcher := n2.join(t, "b", protocol.RoleWatcher)

	// A watcher reaches the talker on another node, stamped.
	w2.send(`{"type":"talk_request"}`)
	if m := talker.want(protocol.EventMessage, "talk_request"); m["from"] != w2.c.ID() {
		t.Fatalf("from = %v, want %s", m["from"], w2.c.ID())
	}
	// The talker's sendto reaches that watcher alone: the next message w2
	// sees is the broadcast sent after the offer.
	talker.send(fmt.Sprintf(`{"type":"offer","sendto":%q,"sdp":"v=0"}`, w3.c.ID()))
	talker.send(`{"type":"talk_ready"}`)
	if m := w3.want(protocol.EventMessage, `"offer"`); m["from"] != talker.c.ID() {
		t.Fatalf("offer from = %v", m["from"])
	}
	w3.want(protocol.EventMessage, "talk_ready")
	w2.want(protocol.EventMessage, "talk_ready")
	// Rooms stay apart: room b's watcher, on the node that got room a's
	// broadcast, sees its own talker's message first.
	otherTalker.send(`{"type":"end_talk"}`)
	otherWatcher.want(protocol.EventMessage, "end_talk")

	// A watcher may not reach anyone but its talker, wherever they are.
	if err := w2.c.Message([]byte(fmt.Sprintf(`{"type":"answer","sendto":%q}`, w3.c.ID()))); !errors.Is(err, signaling.ErrUnknownRecipient) {
		t.Fatalf("watcher to watcher: %v, want ErrUnknownRecipient", err)
	}
	// Nor may a talker reach a socket of another room.
	if err := talker.c.Message([]byte(fmt.Sprintf(`{"type":"offer","sendto":%q}`, otherWatcher.c.ID()))); !errors.Is(err, signaling.ErrUnknownRecipient) {
		t.Fatalf("talker to another room: %v, want ErrUnknownRecipient", err)
	}

	// Departures: a watcher's is told to the talker alone; the talker's to
	// every watcher.
	w3.c.Leave()
	talker.want(protocol.EventUserDisconnected, w3.c.ID())
	talker.c.Leave()
	w2.want(protocol.EventUserDisconnected, talker.c.ID())
	otherTalker.send(`{"type":"talk_ready"}`)
	otherWatcher.want(protocol.EventMessage, "talk_ready")
}

func TestOwnershipAndLimitAcrossNodes(t *testing.T) {
	rs := redistest.Start(t)
	limits := signaling.Limits{RoomSockets: 3}
	n1, n2, n3 := startNode(t, rs.URL(), limits), startNode(t, rs.URL(), limits), startNode(t, rs.URL(), limits)

	talker := n1.join(t, "a", protocol.RoleTalker)
	if _, err := n2.enter(t, "a", protocol.RoleTalker); !errors.Is(err, signaling.ErrRoomTaken) {
		t.Fatalf("second talker on another node: %v, want ErrRoomTaken", err)
	}
	w2 := n2.join(t, "a", protocol.RoleWatcher)
	w3 := n3.join(t, "a", protocol.RoleWatcher)
	if _, err := n2.enter(t, "a", protocol.RoleWatcher); !errors.Is(err, signaling.ErrRoomFull) {
		t.Fatalf("fourth socket of a 3-socket room: %v, want ErrRoomFull", err)
	}
	// The refused sockets took no place: one leaving lets one in (a
	// node's changes reach Redis in order).
	w3.c.Leave()
	n3.join(t, "a", protocol.RoleWatcher)

	// Once the talker is gone (as its watchers hear), another node's
	// socket may take the room.
	talker.c.Leave()
	w2.want(protocol.EventUserDisconnected, talker.c.ID())
	n3.join(t, "a", protocol.RoleTalker)

	// Plain-enter clients: the first talk_ready, on any node, claims the room.
	c1 := n1.join(t, "plain", protocol.RolePlain)
	c2 := n2.join(t, "plain", protocol.RolePlain)
	c1.send(`{"type":"talk_ready"}`)
	c2.want(protocol.EventMessage, "talk_ready")
	if err := c2.c.Message([]byte(`{"type":"talk_ready"}`)); !errors.Is(err, signaling.ErrNotTalker) {
		t.Fatalf("second plain-enter talk_ready: %v, want ErrNotTalker", err)
	}
}

func TestDeadNodeIsFreed(t *testing.T) {
	rs := redistest.Start(t)
	n1, n2 := startNode(t, rs.URL(), signaling.Limits{}), startNode(t, rs.URL(), signaling.Limits{})
	n3 := startNode(t, rs.URL(), signaling.Limits{})
	if got := n3.cl.Nodes(); got != 3 {
		t.Errorf("live nodes = %d, want 3", got)
	}

	talker := n1.join(t, "a", protocol.RoleTalker)
	doomed := n3.join(t, "a", protocol.RoleWatcher)
	doomedTalker := n3.join(t, "b", protocol.RoleTalker)
	watcher := n1.join(t, "b", protocol.RoleWatcher)

	start := time.Now()
	n3.cl.Halt()
	talker.want(protocol.EventUserDisconnected, doomed.c.ID())
	watcher.want(protocol.EventUserDisconnected, doomedTalker.c.ID())
	if took := time.Since(start); took > ttl+ttl/5+time.Second {
		t.Errorf("a dead node was noticed after %v, want within %v", took, ttl+ttl/5)
	}
	// Its talker's room is free again.
	n2.join(t, "b", protocol.RoleTalker)
}

func TestRedisRestart(t *testing.T) {
	rs := redistest.Start(t)
	n1, n2 := startNode(t, rs.URL(), signaling.Limits{}), startNode(t, rs.URL(), signaling.Limits{})
	n3 := startNode(t, rs.URL(), signaling.Limits{})
	talker := n1.join(t, "a", protocol.RoleTalker)
	local := n1.join(t, "a", protocol.RoleWatcher)
	remote := n2.join(t, "a", protocol.RoleWatcher)
	// Node 1 has heard of the remote watcher once it delivers its message:
	// Redis sends node 1 the join's event before it.
	remote.send(`{"type":"talk_request"}`)
	talker.want(protocol.EventMessage, remote.c.ID())

	rs.Stop()
	for _, n := range []*node{n1, n2, n3} {
		n.waitState(t, false)
	}
	// Each node keeps serving what it holds.
	local.send(`{"type":"talk_request"}`)
	talker.want(protocol.EventMessage, "talk_request")
	// A broadcast reaches this node's members; the one elsewhere misses it,
	// and the node counts it.
	before := n1.cl.Dropped()
	talker.send(`{"type":"talk_ready","during":"outage"}`)
	local.want(protocol.EventMessage, "outage")
	if got := n1.cl.Dropped(); got != before+1 {
		t.Errorf("dropped %d messages during the outage, want 1", got-before)
	}
	late := n1.join(t, "a", protocol.RoleWatcher) // let in while Redis is away

	rs.Restart(t)
	n1.waitState(t, true)
	n2.waitState(t, true)
	n3.waitState(t, true)
	// Each node is back, but the others hear of its sockets as it
	// registers them again: till then a message may find no recipient,
	// and a watcher asks again (as a request lost during the outage).
	eventually(t, wait, "the nodes know each other's sockets again", func() bool {
		id, ok := n2.cl.Talker("a")
		return ok && id == talker.c.ID() && n1.cl.Member("a", remote.c.ID())
	})

	// Rooms span the nodes again: routing, ownership and notices.
	remote.send(`{"type":"talk_request"}`)
	talker.want(protocol.EventMessage, remote.c.ID())
	newcomer := n3.join(t, "a", protocol.RoleWatcher)
	newcomer.send(`{"type":"talk_request"}`)
	talker.want(protocol.EventMessage, newcomer.c.ID())
	talker.send(`{"type":"talk_ready"}`)
	for _, p := range []*peer{local, late, remote, newcomer} {
		p.want(protocol.EventMessage, "talk_ready")
	}
	if _, err := n3.enter(t, "a", protocol.RoleTalker); !errors.Is(err, signaling.ErrRoomTaken) {
		t.Fatalf("second talker after the restart: %v, want ErrRoomTaken", err)
	}
	talker.c.Leave()
	remote.want(protocol.EventUserDisconnected, talker.c.ID())
	newcomer.want(protocol.EventUserDisconnected, talker.c.ID())
}

// TestRoomStaysSubscribedThroughTurnover: a node whose last member of a
// room leaves just as a new one enters stays subscribed to the room, so
// the newcomer hears the talker on another node.
func TestRoomStaysSubscribedThroughTurnover(t *testing.T) {
	rs := redistest.Start(t)
	n1, n2 := startNode(t, rs.URL(), signaling.Limits{}), startNode(t, rs.URL(), signaling.Limits{})
	talker := n1.join(t, "a", protocol.RoleTalker)
	w := n2.join(t, "a", protocol.RoleWatcher)
	for i := range 30 {
		left := make(chan struct{})
		go func() { w.c.Leave(); close(left) }()
		next := n2.join(t, "a", protocol.RoleWatcher)
		<-left
		talker.want(protocol.EventUserDisconnected, w.c.ID())
		talker.send(fmt.Sprintf(`{"type":"talk_ready","round":%d}`, i))
		next.want(protocol.EventMessage, fmt.Sprintf(`"round":%d`, i))
		w = next
	}
}
