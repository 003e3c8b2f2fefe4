package sigtest

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/broadcast-service/broadcast/internal/session"
	"github.com/broadcast-service/broadcast/protocol"
	"github.com/broadcast-service/broadcast/signaling/sioclient"
)

// wait bounds each wait for an event from the server.
const wait = 20 * time.Second

// Socket is a client in a room that speaks the protocol by hand, for tests
// that play one side of a handshake and choose what to drop or repeat.
type Socket struct {
	t testing.TB
	c *sioclient.Client
}

// Enter connects to the server at url, enters as req asks and returns once
// the server replies `entered`; it fails the test otherwise. The socket
// closes when the test ends.
func Enter(t testing.TB, url string, req protocol.EnterRequest) *Socket {
	t.Helper()
	s, ev := try(t, url, req)
	if ev.Name != protocol.EventEntered {
		t.Fatalf("enter %+v: %s", req, session.RefusalText(ev))
	}
	return s
}

// EnterRefused connects to the server at url, asks to enter as req asks
// and returns the code of the server's refusal; it fails the test if the
// server lets the socket in.
func EnterRefused(t testing.TB, url string, req protocol.EnterRequest) string {
	t.Helper()
	_, ev := try(t, url, req)
	if ev.Name != protocol.EventError {
		t.Fatalf("enter %+v: entered, want a refusal", req)
	}
	var e protocol.SignalingError
	session.Decode(ev, &e)
	return e.Code
}

// try connects and emits `enter` with req, and returns the socket and the
// server's reply, `entered` or `signaling_error`.
func try(t testing.TB, url string, req protocol.EnterRequest) (*Socket, sioclient.Event) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	c, err := sioclient.Dial(ctx, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	s := &Socket{t: t, c: c}
	if err := c.Emit(protocol.EventEnter, req); err != nil {
		t.Fatal(err)
	}
	return s, s.next(protocol.EventEntered, protocol.EventError)
}

// Close closes the socket: the server sees it leave.
func (s *Socket) Close() { _ = s.c.Close() }

// Disconnected returns the id of the next `user disconnected`, dropping
// messages and other events before it; it fails the test after 20 s.
func (s *Socket) Disconnected() string {
	s.t.Helper()
	var u protocol.UserDisconnected
	session.Decode(s.next(protocol.EventUserDisconnected), &u)
	return u.ID
}

// Refused returns the code of the next `signaling_error`, dropping
// messages and other events before it; it fails the test after 20 s.
func (s *Socket) Refused() string {
	s.t.Helper()
	var e protocol.SignalingError
	session.Decode(s.next(protocol.EventError), &e)
	return e.Code
}

// Send emits msg, a map or one of protocol's message structs, as a `message`.
func (s *Socket) Send(msg any) {
	s.t.Helper()
	if err := s.c.Emit(protocol.EventMessage, msg); err != nil {
		s.t.Fatal(err)
	}
}

// Next returns the next `message` of one of types, dropping any other
// messages and events before it; it fails the test after 20 s.
func (s *Socket) Next(types ...string) protocol.Message {
	s.t.Helper()
	for {
		var m protocol.Message
		if session.Decode(s.next(protocol.EventMessage), &m) && slices.Contains(types, m.Type) {
			return m
		}
	}
}

func (s *Socket) next(names ...string) sioclient.Event {
	s.t.Helper()
	timeout := time.After(wait)
	for {
		select {
		case ev, ok := <-s.c.Events():
			if !ok {
				s.t.Fatalf("socket closed while waiting for %v: %v", names, s.c.Err())
			}
			if slices.Contains(names, ev.Name) {
				return ev
			}
		case <-timeout:
			s.t.Fatalf("no %v within %v", names, wait)
		}
	}
}
