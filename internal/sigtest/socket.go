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
	if ev := s.next(protocol.EventEntered, protocol.EventError); ev.Name != protocol.EventEntered {
		t.Fatalf("enter %+v: %s", req, session.RefusalText(ev))
	}
	return s
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
