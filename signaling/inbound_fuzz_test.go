package signaling_test

import (
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/broadcast-service/broadcast/internal/sigtest"
	"github.com/broadcast-service/broadcast/signaling"
)

// FuzzInboundFrame sends one arbitrary WebSocket message, text or binary,
// through the real transport and go-socket.io's parsers behind it, from a
// socket that has entered a room (or not), then pings. The server must
// answer the ping or close that one connection; it must not crash, hang,
// or stop accepting sockets. The first seed is the frame that used to end
// the process.
func FuzzInboundFrame(f *testing.F) {
	seeds := []struct {
		binary bool
		enter  bool
		data   string
	}{
		{false, false, `451000000000000000-["message","x"]`},
		{false, true, `42["message",{"type":"offer","sendto":"x"}]`},
		{false, false, `42["enter",{"room":"r","role":"talker"}]`},
		{false, true, `461-[{"_placeholder":true,"num":0}]`},
		{false, false, `42/admin,["enter","x"]`},
		{false, true, `41`},
		{false, false, `40/x`},
		{false, false, `2probe`},
		{true, false, "\x04\x01\x02"},
		{false, true, `42["message","` + strings.Repeat("x", 1000) + `"]`},
	}
	for _, s := range seeds {
		f.Add(s.binary, s.enter, []byte(s.data))
	}
	limits := sigtest.LoadLimits
	url, _ := sigtest.Start(f, signaling.Options{Limits: limits}, signaling.ServerOptions{})
	f.Fuzz(func(t *testing.T, binary, enter bool, data []byte) {
		ws := rawOpen(t, url) // fails the input if the server stopped accepting sockets
		_ = ws.SetReadDeadline(time.Now().Add(waitFor))
		if enter {
			if err := ws.WriteMessage(websocket.TextMessage, []byte(`42["enter","fuzz"]`)); err != nil {
				t.Fatal(err)
			}
		}
		kind := websocket.TextMessage
		if binary {
			kind = websocket.BinaryMessage
		}
		if err := ws.WriteMessage(kind, data); err != nil {
			return // the server has closed this socket already
		}
		if err := ws.WriteMessage(websocket.TextMessage, []byte("2")); err != nil {
			return
		}
		// Read until the pong or the close: either is a live server. A
		// read deadline means the server neither answered nor closed.
		for {
			_, p, err := ws.ReadMessage()
			if err != nil {
				if ne, ok := err.(interface{ Timeout() bool }); ok && ne.Timeout() {
					t.Fatalf("the server neither answered a ping nor closed the socket after %q", data)
				}
				return
			}
			if string(p) == "3" {
				return
			}
		}
	})
}
