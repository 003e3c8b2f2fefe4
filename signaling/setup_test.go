package signaling

import (
	"context"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// Closing the server while a session is between the transport and the
// socket.io server waits for it: go-socket.io would otherwise hand the
// session over on a closed channel and end the process.
func TestCloseWaitsForSessionsBeingSetUp(t *testing.T) {
	hub := NewHub(Options{})
	srv := NewServer(hub, ServerOptions{})
	accepted, release := make(chan struct{}), make(chan struct{})
	srv.transport.testHookAccepted = func() {
		close(accepted)
		<-release
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve() }()
	ts := httptest.NewServer(srv)
	defer ts.Close()

	opened := make(chan error, 1)
	go func() {
		ws, resp, err := websocket.DefaultDialer.Dial(strings.Replace(ts.URL, "http", "ws", 1)+"/socket.io/?EIO=3&transport=websocket", nil)
		if err != nil {
			opened <- err
			return
		}
		_ = resp.Body.Close()
		defer ws.Close()
		_ = ws.SetReadDeadline(time.Now().Add(waitFor))
		for {
			if _, _, err := ws.ReadMessage(); err != nil {
				opened <- nil // closed by the hub, after the open packet
				return
			}
		}
	}()
	<-accepted
	closed := make(chan error, 1)
	go func() { closed <- srv.Close() }()
	for deadline := time.Now().Add(waitFor); !srv.transport.setups.isClosing(); runtime.Gosched() {
		if time.Now().After(deadline) {
			t.Fatal("Close did not begin")
		}
	}
	select {
	case <-closed:
		t.Fatal("Close returned while a session was being set up")
	default:
	}
	close(release)
	if err := <-closed; err != nil {
		t.Fatal(err)
	}
	if err := <-served; err != nil {
		t.Fatal(err)
	}
	if err := hub.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := <-opened; err != nil {
		t.Fatal(err)
	}
	// A socket after Close is refused.
	if ws, _, err := websocket.DefaultDialer.Dial(strings.Replace(ts.URL, "http", "ws", 1)+"/socket.io/?EIO=3&transport=websocket", nil); err == nil {
		_ = ws.Close()
		t.Error("a socket was accepted after Close")
	}
}

// isClosing reports whether close has begun.
func (s *setups) isClosing() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closing
}
