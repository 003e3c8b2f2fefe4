package sioclient

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/broadcast-service/broadcast/protocol"
)

// fakeServer speaks the socket.io handshake with the given ping interval
// and timeout (ms), then hands the connection to serve, and closes it when
// serve returns or the test ends.
func fakeServer(t *testing.T, interval, timeout int, serve func(ws *websocket.Conn)) string {
	t.Helper()
	stop := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := (&websocket.Upgrader{}).Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer ws.Close()
		open := `0{"sid":"s1","upgrades":[],"pingInterval":` + strconv.Itoa(interval) + `,"pingTimeout":` + strconv.Itoa(timeout) + `}`
		if ws.WriteMessage(websocket.TextMessage, []byte(open)) != nil || ws.WriteMessage(websocket.TextMessage, []byte("40")) != nil {
			return
		}
		go func() { // the connection ends with the test
			<-stop
			_ = ws.Close()
		}()
		serve(ws)
	}))
	t.Cleanup(func() {
		close(stop)
		srv.Close()
	})
	return srv.URL
}

func dial(t *testing.T, url string) *Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := Dial(ctx, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// ended waits for c's events to close and returns why.
func ended(t *testing.T, c *Client) error {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case _, ok := <-c.Events():
			if !ok {
				return c.Err()
			}
		case <-timeout:
			t.Fatal("connection still up after 10 s")
		}
	}
}

// A server that says nothing, not even pong, for its ping interval plus
// ping timeout is given up on.
func TestServerSilent(t *testing.T) {
	url := fakeServer(t, 50, 50, func(ws *websocket.Conn) {
		for { // read the pings, answer none
			if _, _, err := ws.ReadMessage(); err != nil {
				return
			}
		}
	})
	c := dial(t, url)
	start := time.Now()
	if err := ended(t, c); !errors.Is(err, ErrServerSilent) {
		t.Fatalf("Err = %v, want ErrServerSilent", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("given up after %v, want about 100 ms", d)
	}
}

// A server that answers each ping keeps the connection, well past its
// ping interval plus ping timeout. The timeout is wide (1 s) so that a
// loaded machine's scheduling delays do not pass for silence.
func TestServerAnsweringPingsStays(t *testing.T) {
	url := fakeServer(t, 50, 1000, func(ws *websocket.Conn) {
		for pongs := 0; ; pongs++ {
			if _, _, err := ws.ReadMessage(); err != nil {
				return
			}
			msg := "3"
			if pongs == 70 { // 70 intervals on: over 3 times the allowed silence
				msg = `42["still",1]`
			}
			if ws.WriteMessage(websocket.TextMessage, []byte(msg)) != nil {
				return
			}
		}
	})
	c := dial(t, url)
	select {
	case ev, ok := <-c.Events():
		if !ok || ev.Name != "still" {
			t.Fatalf("event %+v, open %v, err %v; want \"still\"", ev, ok, c.Err())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no event within 10 s")
	}
}

// A message over protocol.MaxFrameBytes ends the connection; one of
// protocol.MaxFrameBytes does not.
func TestFrameTooLarge(t *testing.T) {
	event := func(size int) []byte {
		head := `42["big","`
		return []byte(head + strings.Repeat("x", size-len(head)-2) + `"]`)
	}
	url := fakeServer(t, 25000, 5000, func(ws *websocket.Conn) {
		_ = ws.WriteMessage(websocket.TextMessage, event(protocol.MaxFrameBytes))
		_ = ws.WriteMessage(websocket.TextMessage, event(protocol.MaxFrameBytes+1))
		for {
			if _, _, err := ws.ReadMessage(); err != nil {
				return
			}
		}
	})
	c := dial(t, url)
	if ev, ok := <-c.Events(); !ok || ev.Name != "big" {
		t.Fatalf("first event %q, open %v, err %v; want the protocol.MaxFrameBytes-byte one", ev.Name, ok, c.Err())
	}
	if err := ended(t, c); !errors.Is(err, ErrFrameTooLarge) {
		t.Fatalf("Err = %v, want ErrFrameTooLarge", err)
	}
}
