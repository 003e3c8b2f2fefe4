package signaling_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/gorilla/websocket"

	"github.com/broadcast-service/broadcast/protocol"
	"github.com/broadcast-service/broadcast/signaling"
)

// Messages written in corked batches arrive whole and in order.
func TestBatchedWritesKeepOrder(t *testing.T) {
	s := startServer(t, signaling.Options{}, signaling.ServerOptions{})
	s = startServer(t, signaling.Options{Limits: signaling.Limits{MessagesPerSecond: 1e6, MessageBurst: 1e6}}, signaling.ServerOptions{})
	a, b := dial(t, s.URL, "r", protocol.RoleTalker), dial(t, s.URL, "r", protocol.RoleWatcher)
	const n = 3000
	pad := strings.Repeat("y", 300)
	for i := range n {
		a.emit("message", map[string]any{"type": "candidate", "n": i, "pad": pad})
	}
	for i := range n {
		m := b.nextArg("message")
		if m["n"] != float64(i) || m["pad"] != pad {
			t.Fatalf("message %d arrived as n=%v", i, m["n"])
		}
	}
}

// rawDial opens a socket.io session by hand and enters room.
func rawDial(t *testing.T, url, room string) *websocket.Conn {
	t.Helper()
	ws := rawOpen(t, url)
	// The refused probe's reply proves the enter before it was handled.
	if err := ws.WriteMessage(websocket.TextMessage, fmt.Appendf(nil, `42["enter",%q]`, room)); err != nil {
		t.Fatal(err)
	}
	if _, p, err := ws.ReadMessage(); err != nil || !strings.Contains(string(p), `"entered"`) {
		t.Fatalf("entered: %q, %v", p, err)
	}
	if err := ws.WriteMessage(websocket.TextMessage, []byte(`42["message",{"type":"bye","sendto":"sync-probe"}]`)); err != nil {
		t.Fatal(err)
	}
	if _, p, err := ws.ReadMessage(); err != nil || !strings.Contains(string(p), "sync-probe") {
		t.Fatalf("sync reply %q, %v", p, err)
	}
	return ws
}

// A ping is answered with a pong, also while events are flowing.
func TestPingPong(t *testing.T) {
	s := startServer(t, signaling.Options{}, signaling.ServerOptions{})
	other := dial(t, s.URL, "r", protocol.RoleTalker)
	ws := rawDial(t, s.URL, "r")
	for i := range 100 {
		other.emit("message", map[string]any{"type": "candidate", "n": i})
	}
	if err := ws.WriteMessage(websocket.TextMessage, []byte("2")); err != nil {
		t.Fatal(err)
	}
	events, pongs := 0, 0
	for pongs == 0 || events < 100 {
		_, p, err := ws.ReadMessage()
		if err != nil {
			t.Fatalf("after %d events: %v", events, err)
		}
		switch {
		case string(p) == "3":
			pongs++
		case strings.HasPrefix(string(p), `42["message",`):
			events++
		default:
			t.Fatalf("unexpected %q", p)
		}
	}
}

// A frame over protocol.MaxFrameBytes drops that socket alone; its room
// hears of it.
func TestOversizedFrameDropsOnlyItsSocket(t *testing.T) {
	s := startServer(t, signaling.Options{}, signaling.ServerOptions{})
	other := dial(t, s.URL, "r", protocol.RoleTalker)
	ws := rawDial(t, s.URL, "r")
	// The first message tells the talker the watcher's id.
	if err := ws.WriteMessage(websocket.TextMessage, []byte(`42["message",{"type":"talk_request"}]`)); err != nil {
		t.Fatal(err)
	}
	id := other.nextArg("message")["from"]
	big := fmt.Appendf(nil, `42["message",{"type":"candidate","pad":%q}]`, strings.Repeat("z", protocol.MaxFrameBytes))
	_ = ws.WriteMessage(websocket.TextMessage, big)
	if m := other.nextArg(protocol.EventUserDisconnected); m["id"] != id {
		t.Fatalf("notice %v, want id %v", m, id)
	}
	other.sync()
	if st := s.Hub.Stats(); st.Clients != 1 {
		t.Errorf("hub %+v, want only the other client", st)
	}
}
