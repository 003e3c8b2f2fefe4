package signaling_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/broadcast-service/broadcast/internal/sigtest"
	"github.com/broadcast-service/broadcast/protocol"
	"github.com/broadcast-service/broadcast/signaling"
	"github.com/broadcast-service/broadcast/signaling/sioclient"
)

const waitFor = 10 * time.Second

type testServer struct {
	URL string
	Hub *signaling.Hub
}

// startServer serves a hub over socket.io on a loopback port until the
// test ends.
func startServer(t testing.TB, opts signaling.Options, sopts signaling.ServerOptions) *testServer {
	t.Helper()
	url, hub := sigtest.Start(t, opts, sopts)
	return &testServer{URL: url, Hub: hub}
}

type client struct {
	*sioclient.Client
	t testing.TB
}

// dial connects; with a room it enters it in role (protocol.RolePlain: a plain
// room name) and waits for `entered`.
func dial(t testing.TB, url, room string, role protocol.Role) *client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	c, err := sioclient.Dial(ctx, url, &sioclient.Options{Buffer: 4096})
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	cl := &client{c, t}
	if room != "" {
		cl.enter(protocol.EnterRequest{Room: room, Role: role})
	}
	return cl
}

func (c *client) enter(req protocol.EnterRequest) {
	c.t.Helper()
	if req.Role == protocol.RolePlain {
		c.emit("enter", req.Room)
	} else {
		c.emit("enter", req)
	}
	if m := c.nextArg(protocol.EventEntered); m["room"] != req.Room {
		c.t.Fatalf("entered %v, want room %s", m, req.Room)
	}
}

func (c *client) emit(event string, args ...any) {
	c.t.Helper()
	if err := c.Emit(event, args...); err != nil {
		c.t.Fatalf("emit %s: %v", event, err)
	}
}

func (c *client) next() sioclient.Event {
	c.t.Helper()
	select {
	case ev, ok := <-c.Events():
		if !ok {
			c.t.Fatalf("%s: connection ended: %v", c.ID(), c.Err())
		}
		return ev
	case <-time.After(waitFor):
		c.t.Fatalf("%s: no event within %v", c.ID(), waitFor)
	}
	return sioclient.Event{}
}

func (c *client) nextArg(event string) map[string]any {
	c.t.Helper()
	ev := c.next()
	if ev.Name != event || len(ev.Args) == 0 {
		c.t.Fatalf("%s: got %s %s, want %s", c.ID(), ev.Name, ev.Args, event)
	}
	var m map[string]any
	if err := json.Unmarshal(ev.Args[0], &m); err != nil {
		c.t.Fatal(err)
	}
	return m
}

// sync proves the server has handled everything c sent so far: a message
// to an unknown id is answered with an error, in order.
func (c *client) sync() {
	c.t.Helper()
	c.emit("message", map[string]any{"type": "bye", "sendto": "sync-probe"})
	for {
		ev := c.next()
		if ev.Name == protocol.EventError && strings.Contains(string(ev.Args[0]), "sync-probe") {
			return
		}
		c.t.Fatalf("%s: unexpected %s %s before the sync reply", c.ID(), ev.Name, ev.Args)
	}
}

func TestProtocolOverWebSocket(t *testing.T) {
	s := startServer(t, signaling.Options{}, signaling.ServerOptions{})
	talker := dial(t, s.URL, "lecture", protocol.RoleTalker)
	watcher := dial(t, s.URL, "lecture", protocol.RoleWatcher)
	plain := dial(t, s.URL, "lecture", protocol.RolePlain)
	other := dial(t, s.URL, "elsewhere", protocol.RoleTalker)

	talker.emit("message", map[string]any{"type": "talk_ready"})
	for _, w := range []*client{watcher, plain} {
		if m := w.nextArg("message"); m["type"] != "talk_ready" || m["from"] != talker.ID() {
			t.Fatalf("watcher got %v", m)
		}
	}
	// A watcher's room-wide request reaches the talker alone.
	plain.emit("message", map[string]any{"type": "talk_request"})
	if m := talker.nextArg("message"); m["type"] != "talk_request" || m["from"] != plain.ID() {
		t.Fatalf("talker got %v", m)
	}
	watcher.emit("message", map[string]any{"type": "talk_request", "sendto": talker.ID()})
	if m := talker.nextArg("message"); m["type"] != "talk_request" || m["from"] != watcher.ID() {
		t.Fatalf("talker got %v", m)
	}
	// A sendto across rooms is refused to the sender alone.
	other.emit("message", map[string]any{"type": "offer", "sendto": talker.ID()})
	if m := other.nextArg(protocol.EventError); m["code"] != "unknown_recipient" {
		t.Fatalf("other got %v", m)
	}
	// Bad input: a clear error, and the socket stays usable.
	other.emit("enter", map[string]any{"room": 1})
	if m := other.nextArg(protocol.EventError); m["code"] != "bad_room" {
		t.Fatalf("got %v", m)
	}
	other.emit("message", "not an object")
	if m := other.nextArg(protocol.EventError); m["code"] != "bad_message" {
		t.Fatalf("got %v", m)
	}
	other.emit("enter")
	if m := other.nextArg(protocol.EventError); m["code"] != "bad_room" {
		t.Fatalf("got %v", m)
	}
	other.emit("no such event", 1)
	other.sync()

	// A socket that vanishes without a word is noticed, once, by the talker.
	_ = watcher.Close()
	if m := talker.nextArg(protocol.EventUserDisconnected); m["id"] != watcher.ID() {
		t.Fatalf("notice %v", m)
	}
	for _, c := range []*client{talker, plain, other} {
		c.sync()
	}
}

func TestSocketIDsAreRandom(t *testing.T) {
	s := startServer(t, signaling.Options{}, signaling.ServerOptions{})
	seen := map[string]bool{}
	re := regexp.MustCompile(`^[A-Za-z0-9_-]{22}$`)
	for range 5 {
		c := dial(t, s.URL, "", protocol.RolePlain)
		if !re.MatchString(c.ID()) || seen[c.ID()] {
			t.Fatalf("id %q: want 22 distinct base64url characters", c.ID())
		}
		seen[c.ID()] = true
	}
}

func TestOriginCheck(t *testing.T) {
	s := startServer(t, signaling.Options{}, signaling.ServerOptions{AllowedOrigins: []string{"https://studio.example"}})
	host := strings.TrimPrefix(s.URL, "http://")
	tests := []struct {
		origin string
		ok     bool
	}{
		{"", true},
		{"http://" + host, true},
		{"https://studio.example", true},
		{"https://evil.example", false},
	}
	for _, tt := range tests {
		ctx, cancel := context.WithTimeout(context.Background(), waitFor)
		h := http.Header{}
		if tt.origin != "" {
			h.Set("Origin", tt.origin)
		}
		c, err := sioclient.Dial(ctx, s.URL, &sioclient.Options{Header: h})
		cancel()
		if (err == nil) != tt.ok {
			t.Errorf("origin %q: err=%v, want ok=%v", tt.origin, err, tt.ok)
		}
		if c != nil {
			_ = c.Close()
		}
	}
}

// frozenConn opens a socket.io session and then never reads again, with a
// small receive buffer so that the server's writes back up quickly.
func frozenConn(t *testing.T, url, room string) (*websocket.Conn, string) {
	t.Helper()
	d := websocket.Dialer{
		NetDialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
			if tc, ok := c.(*net.TCPConn); ok {
				_ = tc.SetReadBuffer(4096)
			}
			return c, err
		},
	}
	ws, resp, err := d.Dial(strings.Replace(url, "http", "ws", 1)+"/socket.io/?EIO=3&transport=websocket", nil)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	t.Cleanup(func() { _ = ws.Close() })
	_, open, err := ws.ReadMessage()
	if err != nil {
		t.Fatal(err)
	}
	var sid struct{ SID string }
	if err := json.Unmarshal(open[1:], &sid); err != nil {
		t.Fatal(err)
	}
	if _, _, err := ws.ReadMessage(); err != nil { // "40"
		t.Fatal(err)
	}
	if err := ws.WriteMessage(websocket.TextMessage, fmt.Appendf(nil, `42["enter",%q]`, room)); err != nil {
		t.Fatal(err)
	}
	if _, p, err := ws.ReadMessage(); err != nil || !strings.Contains(string(p), `"entered"`) {
		t.Fatalf("entered: %q, %v", p, err)
	}
	return ws, sid.SID
}

// A client that stops reading in a busy room must not slow other rooms or
// new joins, and is evicted, which its room's talker hears as `user
// disconnected`.
func TestFrozenClientIsEvictedAndStallsNobody(t *testing.T) {
	s := startServer(t, signaling.Options{QueueBytes: 64 << 10, Limits: signaling.Limits{MessagesPerSecond: 1e6, MessageBurst: 1e6}}, signaling.ServerOptions{})
	talker := dial(t, s.URL, "busy", protocol.RoleTalker)
	_, frozenID := frozenConn(t, s.URL, "busy")
	watchers := []*client{dial(t, s.URL, "busy", protocol.RoleWatcher), dial(t, s.URL, "busy", protocol.RoleWatcher)}
	calmT, calmW := dial(t, s.URL, "calm", protocol.RoleTalker), dial(t, s.URL, "calm", protocol.RoleWatcher)

	// Flood the busy room with 16 KB messages, in lockstep with the readers,
	// until the frozen client is evicted; check the calm room as it goes.
	pad := strings.Repeat("x", 16<<10)
	for i := 0; ; i++ {
		if i == 2000 {
			t.Fatalf("frozen client not evicted after %d MB", i*16>>10)
		}
		talker.emit("message", map[string]any{"type": "candidate", "n": i, "pad": pad})
		for _, w := range watchers {
			if m := w.nextArg("message"); m["n"] != float64(i) {
				t.Fatalf("watcher got n=%v, want %d", m["n"], i)
			}
		}
		if i%50 == 0 {
			calmT.emit("message", map[string]any{"type": "candidate", "n": i})
			if m := calmW.nextArg("message"); m["n"] != float64(i) {
				t.Fatalf("calm room got %v", m)
			}
			// A new socket can join and leave while the flood goes on.
			n := dial(t, s.URL, "newcomer", protocol.RoleTalker)
			n.sync()
			_ = n.Close()
		}
		select {
		case ev := <-talker.Events():
			if ev.Name != protocol.EventUserDisconnected || !strings.Contains(string(ev.Args[0]), frozenID) {
				t.Fatalf("talker got %s %s", ev.Name, ev.Args)
			}
		default:
			continue // not evicted yet
		}
		break
	}
	for _, id := range s.Hub.Members("busy") {
		if id == frozenID {
			t.Fatal("frozen client still in the room")
		}
	}
	for _, w := range watchers {
		w.sync() // and no notice about the frozen one before it
	}
}

// A socket over the limits is told why, then closed; nobody else notices.
func TestTooManySocketsAreToldWhy(t *testing.T) {
	s := startServer(t, signaling.Options{Limits: signaling.Limits{AddrSockets: 2}}, signaling.ServerOptions{})
	talker := dial(t, s.URL, "r", protocol.RoleTalker)
	watcher := dial(t, s.URL, "r", protocol.RoleWatcher)
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	c, err := sioclient.Dial(ctx, s.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ev, ok := <-c.Events()
	if !ok || ev.Name != protocol.EventError || !strings.Contains(string(ev.Args[0]), `"too_many_sockets"`) {
		t.Fatalf("got %v %s, want too_many_sockets", ok, ev.Args)
	}
	if _, ok := <-c.Events(); ok {
		t.Fatal("the refused socket stayed open")
	}
	talker.emit("message", map[string]any{"type": "talk_ready"})
	if m := watcher.nextArg("message"); m["type"] != "talk_ready" {
		t.Fatalf("watcher got %v", m)
	}
	talker.sync()
}
