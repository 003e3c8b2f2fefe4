package session_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/broadcast-service/broadcast/internal/session"
	"github.com/broadcast-service/broadcast/internal/sigtest"
	"github.com/broadcast-service/broadcast/protocol"
	"github.com/broadcast-service/broadcast/signaling"
)

func open(t *testing.T, ctx context.Context, cfg session.Config) (*session.Session, session.Entered) {
	t.Helper()
	s, e, err := session.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s, e
}

// next returns the session's next event of type E, dropping others; it
// fails the test after 20 s or when the events end.
func next[E session.Event](t *testing.T, s *session.Session) E {
	t.Helper()
	timeout := time.After(20 * time.Second)
	for {
		select {
		case ev, ok := <-s.Events():
			if !ok {
				t.Fatalf("events ended: %v", s.Err())
			}
			if e, ok := ev.(E); ok {
				return e
			}
		case <-timeout:
			var e E
			t.Fatalf("no %T within 20 s", e)
		}
	}
}

// Typed messages go out stamped by the server and come back typed; a
// refused enter is ErrRefused with the code.
func TestSessionSendsAndHearsTyped(t *testing.T) {
	url, _ := sigtest.Start(t, signaling.Options{}, signaling.ServerOptions{})
	ctx := context.Background()
	talker, e := open(t, ctx, session.Config{Server: url, Enter: protocol.EnterRequest{Room: "r", Role: protocol.RoleTalker}})
	if e.Room != "r" || e.Again || e.ICEServers == nil {
		t.Errorf("entered %+v", e)
	}
	watcher, _ := open(t, ctx, session.Config{Server: url, Enter: protocol.EnterRequest{Room: "r", Role: protocol.RoleWatcher}})
	if err := watcher.Send(protocol.TalkRequest{Head: protocol.Head{Type: protocol.TypeTalkRequest}}); err != nil {
		t.Fatal(err)
	}
	m := next[session.Message](t, talker)
	if m.Type != protocol.TypeTalkRequest || m.From != watcher.ID() {
		t.Errorf("talker heard %+v, want a talk_request from %s", m.Message, watcher.ID())
	}
	_ = watcher.Close()
	if left := next[session.Left](t, talker); left.ID != m.From {
		t.Errorf("left %q, want %q", left.ID, m.From)
	}
	if err := watcher.Send(protocol.Bye{Head: protocol.Head{Type: protocol.TypeBye}}); !errors.Is(err, session.ErrClosed) {
		t.Errorf("send after close: %v, want ErrClosed", err)
	}

	_, _, err := session.Open(ctx, session.Config{Server: url, Enter: protocol.EnterRequest{Room: "r", Role: protocol.RoleTalker}})
	if !errors.Is(err, session.ErrRefused) {
		t.Fatalf("second talker: %v, want ErrRefused", err)
	}
}

// A connection the server drops is made again: Lost, then Entered with
// Again under a new socket id, and the talker keeps its room with the
// retake token.
func TestSessionReconnects(t *testing.T) {
	url, hub := sigtest.Start(t, signaling.Options{}, signaling.ServerOptions{})
	s, e := open(t, context.Background(), session.Config{Server: url, Enter: protocol.EnterRequest{Room: "r", Role: protocol.RoleTalker}})
	if e.Retake == "" {
		t.Fatal("no retake token for a talker")
	}
	first := s.ID()
	hub.Kick(first, signaling.ErrSlowConsumer)
	next[session.Lost](t, s)
	again := next[session.Entered](t, s)
	if !again.Again || s.ID() == first || s.ID() == "" {
		t.Fatalf("after the drop: %+v under %q (was %q)", again, s.ID(), first)
	}
	w, _ := open(t, context.Background(), session.Config{Server: url, Enter: protocol.EnterRequest{Room: "r", Role: protocol.RoleWatcher}})
	_ = w.Send(protocol.TalkRequest{Head: protocol.Head{Type: protocol.TypeTalkRequest}})
	if m := next[session.Message](t, s); m.From != w.ID() {
		t.Errorf("the reconnected talker heard %+v", m.Message)
	}
}

// Past ReconnectFor without a server, the events end and Err says the
// connection was lost; ending the context instead ends them with no error.
func TestSessionGivesUp(t *testing.T) {
	url, hub := sigtest.Start(t, signaling.Options{}, signaling.ServerOptions{})
	s, _ := open(t, context.Background(), session.Config{Server: url, ReconnectFor: time.Nanosecond, Enter: protocol.EnterRequest{Room: "r", Role: protocol.RoleWatcher}})
	hub.Kick(s.ID(), signaling.ErrSlowConsumer)
	for range s.Events() {
	}
	if err := s.Err(); !errors.Is(err, session.ErrLost) {
		t.Fatalf("Err = %v, want ErrLost", err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	s2, _ := open(t, ctx, session.Config{Server: url, Enter: protocol.EnterRequest{Room: "r", Role: protocol.RoleWatcher}})
	cancel()
	for range s2.Events() {
	}
	if err := s2.Err(); err != nil {
		t.Fatalf("Err after the context = %v, want nil", err)
	}
}

func TestOpenUnreachable(t *testing.T) {
	_, _, err := session.Open(context.Background(), session.Config{Server: "http://127.0.0.1:1", DialTimeout: 2 * time.Second})
	if !errors.Is(err, session.ErrUnreachable) {
		t.Fatalf("Open = %v, want ErrUnreachable", err)
	}
}
