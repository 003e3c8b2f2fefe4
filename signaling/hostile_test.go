package signaling_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/broadcast-service/broadcast/protocol"
	"github.com/broadcast-service/broadcast/signaling"
)

// rawOpen opens a socket.io session by hand, without an Origin header and
// without entering a room, and reads the handshake.
func rawOpen(t testing.TB, url string) *websocket.Conn {
	t.Helper()
	ws := openWithHeader(t, url, nil)
	for _, want := range []string{"0", "40"} {
		_, p, err := ws.ReadMessage()
		if err != nil || !strings.HasPrefix(string(p), want) {
			t.Fatalf("handshake: %q, %v; want %s...", p, err, want)
		}
	}
	return ws
}

// readUntilClosed reads what the server sends until it closes the
// connection, and returns it; it fails the test if the server keeps it open.
func readUntilClosed(t *testing.T, ws *websocket.Conn) []string {
	t.Helper()
	_ = ws.SetReadDeadline(time.Now().Add(waitFor))
	var got []string
	for {
		_, p, err := ws.ReadMessage()
		if err != nil {
			if ne, ok := err.(interface{ Timeout() bool }); ok && ne.Timeout() {
				t.Fatalf("the server kept the connection open; it sent %q", got)
			}
			return got
		}
		got = append(got, string(p))
	}
}

// Frames outside what the product speaks close their own socket with a
// bad_frame error, before or after `enter`; the process, and every other
// socket, carry on. The first frame used to end the process: go-socket.io
// made a slice as long as the attachment count the client gave.
func TestHostileFramesCloseOnlyTheirSocket(t *testing.T) {
	s := startServer(t, signaling.Options{}, signaling.ServerOptions{})
	talker := dial(t, s.URL, "bystanders", protocol.RoleTalker)
	watcher := dial(t, s.URL, "bystanders", protocol.RoleWatcher)
	frames := []struct {
		name   string
		binary bool
		data   string
	}{
		{"huge attachment count", false, `451000000000000000-["message","x"]`},
		{"binary event", false, `451-["message",{"_placeholder":true,"num":0}]`},
		{"binary ack", false, `461-[{"_placeholder":true,"num":0}]`},
		{"binary message", true, "\x04\x01\x02"},
		{"other namespace", false, `42/admin,["enter","x"]`},
		{"connect to a namespace", false, `40/admin`},
		{"connect again", false, `40`},
		{"ack", false, `43["x"]`},
		{"event with an ack id", false, `421["enter","x"]`},
		{"error packet", false, `44"x"`},
		{"bare socket.io message", false, `4`},
		{"upgrade", false, `5`},
		{"noop", false, `6`},
		{"pong", false, `3`},
		{"ping with a payload", false, `2hello`},
		{"Engine.IO type out of range", false, "\xff"},
		{"invalid JSON", false, `42["enter",`},
		{"event without a name", false, `42[1,2]`},
		{"event name the parser would split", false, `42["a,b",1]`},
		{"empty event", false, `42[]`},
	}
	for _, f := range frames {
		t.Run(f.name, func(t *testing.T) {
			for _, entered := range []bool{false, true} {
				ws := rawOpen(t, s.URL)
				if entered {
					if err := ws.WriteMessage(websocket.TextMessage, []byte(`42["enter","hostile"]`)); err != nil {
						t.Fatal(err)
					}
				}
				typ := websocket.TextMessage
				if f.binary {
					typ = websocket.BinaryMessage
				}
				if err := ws.WriteMessage(typ, []byte(f.data)); err != nil {
					t.Fatal(err)
				}
				got := readUntilClosed(t, ws)
				if !slices.ContainsFunc(got, func(p string) bool { return strings.Contains(p, `"code":"bad_frame"`) }) {
					t.Fatalf("entered=%v: got %q before the close, want a bad_frame error", entered, got)
				}
			}
			talker.emit("message", map[string]any{"type": "talk_ready"})
			if m := watcher.nextArg("message"); m["type"] != "talk_ready" {
				t.Fatalf("bystander got %v", m)
			}
		})
	}
}

// A socket.io disconnect (`41`) closes the connection and frees the
// socket's place under the per-address limit; it used to leave the
// WebSocket open, pinging, while its place was free for another.
func TestNamespaceDisconnectClosesTheConnection(t *testing.T) {
	const perAddr = 2
	s := startServer(t, signaling.Options{Limits: signaling.Limits{AddrSockets: perAddr}}, signaling.ServerOptions{})
	for range 3 * perAddr {
		ws := rawOpen(t, s.URL)
		if err := ws.WriteMessage(websocket.TextMessage, []byte(`42["enter","r"]`)); err != nil {
			t.Fatal(err)
		}
		if err := ws.WriteMessage(websocket.TextMessage, []byte(`41`)); err != nil {
			t.Fatal(err)
		}
		for _, p := range readUntilClosed(t, ws) {
			if strings.Contains(p, "signaling_error") {
				t.Fatalf("refused: %s", p)
			}
		}
		// The client sees its connection close before the server has
		// handled the socket's departure: wait for that, as a client
		// reconnecting at once may find its place still taken.
		leftAll(t, s.Hub)
	}
	// Every place is free again: a full set of sockets gets in.
	for range perAddr {
		c := dial(t, s.URL, "r", protocol.RoleWatcher)
		c.sync()
	}
}

// leftAll waits until the hub has no client, for up to 10 s.
func leftAll(t *testing.T, h *signaling.Hub) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for h.Stats().Clients != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d clients still in the hub after 10 s", h.Stats().Clients)
		}
		time.Sleep(time.Millisecond)
	}
}

// leavePanics is a Cluster whose Leave panics for one socket, standing for
// a fault met while that socket's departure is handled.
type leavePanics struct{ id atomic.Pointer[string] }

func (*leavePanics) Join(string, string, bool, int) error { return nil }
func (*leavePanics) ClaimTalker(string, string) error     { return nil }
func (*leavePanics) Talker(string) (string, bool)         { return "", false }
func (*leavePanics) Member(string, string) bool           { return false }
func (*leavePanics) Broadcast(string, []byte) int         { return 0 }
func (*leavePanics) Send(string, string, []byte)          {}
func (l *leavePanics) Leave(_, id string) {
	if p := l.id.Load(); p != nil && *p == id {
		panic("cluster fault")
	}
}

// A panic while serving one socket ends that socket, not the process: the
// disconnect handler, which go-socket.io does not recover, panics here.
func TestPanicEndsOnlyItsSocket(t *testing.T) {
	cl := &leavePanics{}
	s := startServer(t, signaling.Options{Cluster: cl}, signaling.ServerOptions{})
	talker := dial(t, s.URL, "r", protocol.RoleTalker)
	gone := dial(t, s.URL, "r", protocol.RoleWatcher)
	id := gone.ID()
	cl.id.Store(&id)
	_ = gone.Close()
	if m := talker.nextArg(protocol.EventUserDisconnected); m["id"] != id {
		t.Fatalf("talker heard %v", m)
	}
	late := dial(t, s.URL, "r", protocol.RoleWatcher)
	late.emit("message", map[string]any{"type": "talk_request"})
	if m := talker.nextArg("message"); m["from"] != late.ID() {
		t.Fatalf("talker got %v", m)
	}
}

// countingHandler counts records by message.
type countingHandler struct {
	mu     sync.Mutex
	counts map[string]int
}

func (h *countingHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *countingHandler) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h *countingHandler) WithGroup(string) slog.Handler            { return h }
func (h *countingHandler) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.counts[r.Message]++
	return nil
}

// A client provoking refusals as fast as it can gets each one answered,
// but the server logs only a bounded rate of them.
func TestRefusalLogsAreThrottled(t *testing.T) {
	logs := &countingHandler{counts: map[string]int{}}
	s := startServer(t, signaling.Options{Limits: signaling.Limits{MessagesPerSecond: 1e6, MessageBurst: 1e6}},
		signaling.ServerOptions{Logger: slog.New(logs)})
	c := dial(t, s.URL, "r", protocol.RoleWatcher)
	const n = 1000
	start := time.Now()
	for range n {
		c.emit("message", map[string]any{"type": "no-such-type"})
	}
	for range n {
		if m := c.nextArg(protocol.EventError); m["code"] != "unknown_type" {
			t.Fatalf("got %v", m)
		}
	}
	c.sync()
	elapsed := time.Since(start)
	logs.mu.Lock()
	defer logs.mu.Unlock()
	// The bucket allows its burst of 100, then 20 a second.
	if got, most := logs.counts["refused"], 100+int(20*elapsed.Seconds())+2; got > most {
		t.Errorf("%d refusals logged %d records in %v; want at most %d", n, got, elapsed, most)
	}
}

// openWithHeader opens a socket.io session with extra request headers; the
// connection closes when the test ends.
func openWithHeader(t testing.TB, url string, h http.Header) *websocket.Conn {
	t.Helper()
	ws, resp, err := websocket.DefaultDialer.Dial(strings.Replace(url, "http", "ws", 1)+"/socket.io/?EIO=3&transport=websocket", h)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	t.Cleanup(func() { _ = ws.Close() })
	return ws
}

// admitted reports whether the server let the socket in: it may enter a
// room, or else it is told why it closes.
func admitted(t *testing.T, ws *websocket.Conn) bool {
	t.Helper()
	_ = ws.WriteMessage(websocket.TextMessage, []byte(`42["enter","r"]`)) // a refused socket may be closed already

	_ = ws.SetReadDeadline(time.Now().Add(waitFor))
	for {
		_, p, err := ws.ReadMessage()
		switch {
		case err != nil:
			t.Fatalf("closed without a reason: %v", err)
		case strings.HasPrefix(string(p), `42["entered"`):
			return true
		case strings.Contains(string(p), `"too_many_sockets"`):
			return false
		}
	}
}

// Behind one trusted proxy, a socket's address is the entry the proxy
// appended: what a client writes to the left of it, or an empty entry,
// does not get it past the per-address limit.
func TestForwardedForCannotDodgeTheAddressLimit(t *testing.T) {
	s := startServer(t, signaling.Options{Limits: signaling.Limits{AddrSockets: 2}}, signaling.ServerOptions{TrustedProxies: 1})
	for _, xff := range []func(i int) string{
		func(i int) string { return fmt.Sprintf("203.0.113.%d, 198.51.100.9", i) },
		func(int) string { return "," },
		func(i int) string { return fmt.Sprintf("2001:db8:1:2::%d", i+1) }, // one /64
	} {
		for i := range 3 {
			ws := openWithHeader(t, s.URL, http.Header{"X-Forwarded-For": {xff(i)}})
			if got, want := admitted(t, ws), i < 2; got != want {
				t.Fatalf("socket %d with X-Forwarded-For %q admitted %v, want %v", i, xff(i), got, want)
			}
		}
	}
}

// A socket that never enters a room is told enter_timeout and closed, so
// idle sockets cannot fill the socket limits; one that entered stays.
func TestSocketsThatNeverEnterAreClosed(t *testing.T) {
	s := startServer(t, signaling.Options{Limits: signaling.Limits{EnterTimeout: 100 * time.Millisecond}}, signaling.ServerOptions{})
	entered := dial(t, s.URL, "r", protocol.RoleWatcher)
	idle := rawOpen(t, s.URL)
	got := readUntilClosed(t, idle)
	if !slices.ContainsFunc(got, func(p string) bool { return strings.Contains(p, `"enter_timeout"`) }) {
		t.Fatalf("idle socket got %q, want enter_timeout", got)
	}
	if n := s.Hub.Stats().Clients; n != 1 {
		t.Errorf("%d clients after the idle one was closed, want 1", n)
	}
	entered.sync() // its timer, started first, did nothing
}
